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
    var clientSecret = null;
    // The SetupIntent is made by a CSRF-protected POST when the customer saves, never by
    // loading the page; a card error keeps the same SetupIntent for the next try.
    var setupIntentSecret = function () {
      if (clientSecret) {
        return Promise.resolve(clientSecret);
      }
      return fetch(cardForm.dataset.intentUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "X-CSRFToken": cardForm.querySelector("input[name=csrfmiddlewaretoken]").value,
          Accept: "application/json",
        },
      })
        .then(function (response) {
          return response.json().catch(function () {
            return { error: "Your card could not be saved. Please try again." };
          });
        })
        .then(function (body) {
          if (!body.client_secret) {
            throw new Error(body.error || "Your card could not be saved. Please try again.");
          }
          clientSecret = body.client_secret;
          return clientSecret;
        });
    };
    cardForm.addEventListener("submit", function (event) {
      if (document.getElementById("setup-intent-id").value) {
        return;
      }
      event.preventDefault();
      button.disabled = true;
      errors.textContent = "";
      setupIntentSecret()
        .then(function (secret) {
          return stripe.confirmCardSetup(secret, { payment_method: { card: card } });
        })
        .then(function (result) {
          if (result.error) {
            errors.textContent = result.error.message || "Your card could not be saved.";
            button.disabled = false;
            return;
          }
          document.getElementById("setup-intent-id").value = result.setupIntent.id;
          cardForm.submit();
        })
        .catch(function (error) {
          errors.textContent = error.message || "Your card could not be saved.";
          button.disabled = false;
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
