/* Card Element + SetupIntent on the add-card page; confirmCardPayment when a bank asks
   for authentication. Card data goes from this page to Stripe only. */
(function () {
  "use strict";

  var cardForm = document.getElementById("card-form");
  if (cardForm) {
    var stripe = window.Stripe(cardForm.dataset.key);
    var card = stripe.elements().create("card");
    card.mount("#card-element");
    var errors = document.getElementById("card-errors");
    var button = document.getElementById("card-submit");
    cardForm.addEventListener("submit", function (event) {
      if (document.getElementById("setup-intent-id").value) {
        return;
      }
      event.preventDefault();
      button.disabled = true;
      errors.textContent = "";
      stripe
        .confirmCardSetup(cardForm.dataset.clientSecret, { payment_method: { card: card } })
        .then(function (result) {
          if (result.error) {
            errors.textContent = result.error.message || "Your card could not be saved.";
            button.disabled = false;
            return;
          }
          document.getElementById("setup-intent-id").value = result.setupIntent.id;
          cardForm.submit();
        });
    });
  }

  var action = document.getElementById("payment-action");
  if (action) {
    var stripeForPayment = window.Stripe(action.dataset.key);
    stripeForPayment.confirmCardPayment(action.dataset.clientSecret).then(function (result) {
      var intent = result.paymentIntent || (result.error && result.error.payment_intent);
      var secret = action.dataset.clientSecret;
      document.getElementById("payment-intent-id").value = intent
        ? intent.id
        : secret.substring(0, secret.indexOf("_secret_"));
      if (result.error) {
        document.getElementById("payment-action-error").textContent =
          result.error.message || "The payment was not confirmed.";
      }
      document.getElementById("payment-return-form").submit();
    });
  }
})();
