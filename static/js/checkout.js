/* Checkout and order pages: the Payment Element, the wait for the webhook, one-click forms.
 *
 * Written against Stripe.js's public API (Stripe(), elements(), create('payment'), mount(),
 * confirmPayment()), so it runs unchanged with real Stripe.js or the offline sandbox's
 * stand-in. No inline scripts: the page hands data over in <script type="application/json">
 * blocks (Django's json_script), which the Content-Security-Policy allows.
 */
(function () {
  "use strict";

  var POLL_INTERVAL_MS = 2000;
  var POLL_MAX_TRIES = 30; // about a minute

  function readJSON(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input && input.value) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken()
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  /* ---- The checkout page ---------------------------------------------------------- */

  function initCheckout(config) {
    var shippingForm = document.getElementById("shipping-form");
    var paymentForm = document.getElementById("payment-form");
    var continueButton = document.getElementById("continue-button");
    var payButton = document.getElementById("pay-button");
    var editButton = document.getElementById("edit-address-button");
    var messageBox = document.getElementById("checkout-message");
    var statusLine = document.getElementById("checkout-status");
    if (!shippingForm || !paymentForm) return;

    var stripe = null;
    var elements = null;
    var paymentElement = null;
    var checkout = null; // the last answer of create-payment-intent
    var shipping = null; // the address the order was opened with

    function showError(text) {
      messageBox.textContent = text;
      messageBox.hidden = !text;
    }

    function setStatus(text) {
      if (statusLine) statusLine.textContent = text || "";
    }

    function clearFieldErrors() {
      var lists = shippingForm.querySelectorAll("[data-errors-for]");
      for (var i = 0; i < lists.length; i++) lists[i].textContent = "";
    }

    function showFieldErrors(fields) {
      var unplaced = [];
      Object.keys(fields || {}).forEach(function (name) {
        var list = shippingForm.querySelector('[data-errors-for="' + name + '"]');
        var messages = (fields[name] || []).map(function (e) { return e.message || String(e); });
        if (!list) { unplaced = unplaced.concat(messages); return; }
        messages.forEach(function (text) {
          var item = document.createElement("li");
          item.textContent = text;
          list.appendChild(item);
        });
      });
      showError(unplaced.length ? unplaced.join(" ") : "Please correct the address fields marked above.");
    }

    function readShipping() {
      var data = {};
      var fields = shippingForm.querySelectorAll("input, select, textarea");
      for (var i = 0; i < fields.length; i++) {
        var field = fields[i];
        if (field.name && field.name !== "csrfmiddlewaretoken") data[field.name] = field.value;
      }
      return data;
    }

    function errorText(answer) {
      if (answer.data && answer.data.error && answer.data.error.message) return answer.data.error.message;
      if (answer.status === 403) return "Please log in again, then reload this page.";
      return "Something went wrong (" + answer.status + "). Please try again.";
    }

    // Ask the server for the order and its PaymentIntent. The same buyer asking again for the
    // same listing gets the same order back, so this is safe to repeat.
    function openCheckout() {
      var body = { listing_id: config.listingId };
      Object.keys(shipping).forEach(function (name) { body[name] = shipping[name]; });
      return postJSON(config.createUrl, body).then(function (answer) {
        if (!answer.ok) {
          if (answer.status === 400 && answer.data.error && answer.data.error.fields) {
            showPane("shipping");
            showFieldErrors(answer.data.error.fields);
          } else {
            showError(errorText(answer));
          }
          return null;
        }
        return answer.data;
      }, function () {
        showError("We could not reach Stub Collector. Check your connection and try again.");
        return null;
      });
    }

    function mountPaymentElement(data) {
      if (typeof window.Stripe !== "function") {
        showError("The payment form could not load. Please reload the page.");
        return false;
      }
      if (!stripe) stripe = window.Stripe(data.publishable_key || config.publishableKey, { stripeAccount: data.stripe_account });
      if (paymentElement) {
        paymentElement.destroy();
      }
      elements = stripe.elements({ clientSecret: data.client_secret });
      paymentElement = elements.create("payment");
      paymentElement.mount("#payment-element");
      return true;
    }

    function showPane(which) {
      shippingForm.hidden = which !== "shipping";
      paymentForm.hidden = which !== "payment";
    }

    shippingForm.addEventListener("submit", function (event) {
      event.preventDefault();
      clearFieldErrors();
      showError("");
      continueButton.disabled = true;
      setStatus("Reserving the stub for you…");
      shipping = readShipping();
      openCheckout().then(function (data) {
        continueButton.disabled = false;
        setStatus("");
        if (!data) return;
        if (data.payment_intent_status === "succeeded" || data.payment_intent_status === "processing") {
          window.location.assign(data.return_url); // paid already (in another tab): show the order
          return;
        }
        var secretChanged = !checkout || checkout.client_secret !== data.client_secret;
        checkout = data;
        if (secretChanged && !mountPaymentElement(data)) return;
        showPane("payment");
      });
    });

    if (editButton) {
      editButton.addEventListener("click", function () {
        showError("");
        showPane("shipping");
      });
    }

    function finish() {
      window.location.assign(checkout.return_url);
    }

    function confirm() {
      setStatus("Confirming your payment…");
      return stripe.confirmPayment({
        elements: elements,
        confirmParams: { return_url: checkout.return_url },
        redirect: "if_required"
      }).then(function (result) {
        setStatus("");
        if (result.error && result.error.code === "payment_intent_unexpected_state") {
          closedCheckout(result.error.payment_intent);
          return;
        }
        if (result.error) {
          // A decline: the PaymentIntent is back to requires_payment_method and the card form
          // stays as it is, so the next Pay confirms the same PaymentIntent with the card the
          // buyer types now (one order, one PaymentIntent; docs/sandbox.md, Stripe.js).
          showError(result.error.message || "Your card was declined. Please try another card.");
          payButton.disabled = false;
          return;
        }
        var status = result.paymentIntent && result.paymentIntent.status;
        if (paidOrPaying(status)) {
          finish();
          return;
        }
        showError("The payment was not completed. Please try again.");
        payButton.disabled = false;
      }, function () {
        setStatus("");
        showError("We could not reach the payment provider. Please try again.");
        payButton.disabled = false;
      });
    }

    function paidOrPaying(status) {
      return status === "succeeded" || status === "processing" || status === "requires_capture";
    }

    // The PaymentIntent cannot be confirmed any more: paid meanwhile (another tab), or
    // cancelled because the hold on the stub lapsed. Ask the server again: it hands back the
    // order, or a new one with a new PaymentIntent (and so a fresh card form).
    function closedCheckout(intent) {
      if (intent && paidOrPaying(intent.status)) {
        finish();
        return;
      }
      openCheckout().then(function (data) {
        payButton.disabled = false;
        if (!data) return;
        if (paidOrPaying(data.payment_intent_status)) {
          window.location.assign(data.return_url);
          return;
        }
        var secretChanged = data.client_secret !== checkout.client_secret;
        checkout = data;
        if (secretChanged && mountPaymentElement(data)) {
          showError("Your hold on this stub ran out, so this is a new checkout. " +
                    "Please enter your card details again, then press Pay.");
          return;
        }
        showError("The payment was not completed. Please try again.");
      });
    }

    paymentForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!stripe || !elements || !checkout) return;
      showError("");
      payButton.disabled = true;
      confirm();
    });
  }

  /* ---- The order page after checkout: wait for the webhook ---------------------------- */

  function initStatusPolling(config) {
    var panel = document.getElementById("order-waiting");
    if (!panel || panel.getAttribute("data-poll") !== "1" || !config.statusUrl) return;
    var text = document.getElementById("order-waiting-text");
    var tries = 0;

    function poll() {
      tries += 1;
      fetch(config.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && data.status && data.status !== config.status) {
            window.location.reload(); // the server renders the new state, timeline included
            return;
          }
          next();
        }, next);
    }

    function next() {
      if (tries >= POLL_MAX_TRIES) {
        if (text) {
          text.textContent = "Stripe has not confirmed the payment yet. We will email you as soon as it does; " +
            "you can also reload this page later.";
        }
        return;
      }
      window.setTimeout(poll, POLL_INTERVAL_MS);
    }

    window.setTimeout(poll, POLL_INTERVAL_MS);
  }

  /* ---- Forms that must be sent once (ship, confirm receipt, refund) -------------------- */

  function initSubmitOnce() {
    var forms = document.querySelectorAll("form[data-submit-once]");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (event) {
        var question = form.getAttribute("data-confirm");
        if (form.getAttribute("data-submitted") === "1" || (question && !window.confirm(question))) {
          event.preventDefault();
          return;
        }
        form.setAttribute("data-submitted", "1");
        var buttons = form.querySelectorAll("button[type=submit]");
        for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
      });
    });
  }

  function start() {
    var checkoutConfig = readJSON("checkout-config");
    if (checkoutConfig) initCheckout(checkoutConfig);
    var statusConfig = readJSON("order-status-config");
    if (statusConfig) initStatusPolling(statusConfig);
    initSubmitOnce();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
