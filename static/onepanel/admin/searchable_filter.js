"use strict";
// A list filter rendered as one select (admin/onepanel/searchable_filter.html): Django's
// vendored Select2 makes it searchable; choosing an option opens that filtered list.
{
    const $ = django.jQuery;
    $(function () {
        $("select.searchable-filter").each(function () {
            $(this).select2({width: "100%"}).on("change", function () {
                window.location.href = this.value;
            });
        });
    });
}
