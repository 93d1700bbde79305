/*
 * Stripe.js stand-in, served by stripe_sandbox at /v3/ (plain ES2017, no build step).
 *
 * It implements the part of Stripe.js that a Payment Element checkout uses, with the same
 * names and result shapes, so page code written for real Stripe.js runs unchanged:
 *
 *   const stripe = Stripe('pk_test_...', {stripeAccount: 'acct_...'});
 *   const elements = stripe.elements({clientSecret, appearance});
 *   elements.create('payment').mount('#payment-element');
 *   const {error: submitError} = await elements.submit();
 *   const {error, paymentIntent} = await stripe.confirmPayment({
 *     elements, confirmParams: {return_url}, redirect: 'if_required'});
 *   const {paymentIntent} = await stripe.retrievePaymentIntent(clientSecret);
 *
 * The card form is rendered straight into the page (no iframe). Its inputs have no `name`
 * attribute, so a surrounding <form> never posts card data to the merchant's server.
 * Confirmation calls the sandbox API (the origin this script was loaded from) with the
 * publishable key and the Stripe-Account header, as Stripe.js does. A card that needs
 * 3-D Secure sends the browser to the sandbox's authentication page, which returns to
 * `return_url` (or to the current page when none was given) with `payment_intent`,
 * `payment_intent_client_secret` and `redirect_status`.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  var API_BASE = script && script.src ? new URL(script.src, window.location.href).origin
                                      : window.location.origin;

  function IntegrationError(message) {
    var error = new Error(message);
    error.name = 'IntegrationError';
    return error;
  }

  function encodeForm(params, prefix, parts) {
    parts = parts || [];
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      var name = prefix ? prefix + '[' + key + ']' : key;
      if (value === undefined || value === null) { return; }
      if (typeof value === 'object') {
        encodeForm(value, name, parts);
      } else {
        parts.push(encodeURIComponent(name) + '=' + encodeURIComponent(String(value)));
      }
    });
    return parts.join('&');
  }

  function intentIdFromSecret(clientSecret) {
    var index = typeof clientSecret === 'string' ? clientSecret.indexOf('_secret_') : -1;
    if (index <= 0) {
      throw IntegrationError('Invalid value for clientSecret: it should be a PaymentIntent ' +
                             'client secret of the form pi_..._secret_...');
    }
    return clientSecret.slice(0, index);
  }

  function luhnValid(number) {
    var total = 0;
    for (var i = 0; i < number.length; i++) {
      var digit = Number(number[number.length - 1 - i]);
      if (i % 2 === 1) { digit *= 2; if (digit > 9) { digit -= 9; } }
      total += digit;
    }
    return total % 10 === 0;
  }

  function withQuery(url, params) {
    var target = new URL(url, window.location.href);
    Object.keys(params).forEach(function (key) { target.searchParams.set(key, params[key]); });
    return target.toString();
  }

  // ---------------------------------------------------------------------------------------
  // The Payment Element: a plain card form.
  // ---------------------------------------------------------------------------------------
  var elementCount = 0;

  function PaymentElement(elements, type, options) {
    this._elements = elements;
    this._type = type;
    this._options = options || {};
    this._handlers = {};
    this._container = null;
    this._id = 'sandbox-' + type + '-' + (++elementCount);
  }

  PaymentElement.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };
  PaymentElement.prototype.off = function (event, handler) {
    this._handlers[event] = (this._handlers[event] || []).filter(function (h) {
      return handler && h !== handler;
    });
    return this;
  };
  PaymentElement.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).forEach(function (handler) { handler(payload); });
  };

  // Real Stripe.js draws the Payment Element inside its own iframe, so the merchant's Content
  // Security Policy never sees its styles. The stand-in lives in the merchant's page: it styles
  // through the CSSOM (element.style), which a policy without 'unsafe-inline' allows, where a
  // <style> element or a style attribute would be blocked.
  function styleElement(wrapper) {
    function set(node, styles) {
      Object.keys(styles).forEach(function (name) { node.style[name] = styles[name]; });
    }
    set(wrapper, {display: 'grid', gridTemplateColumns: '2fr 1fr 1fr', gap: '.5rem'});
    wrapper.querySelectorAll('label').forEach(function (label) {
      set(label, {display: 'flex', flexDirection: 'column', fontSize: '.85rem'});
    });
    wrapper.querySelectorAll('input').forEach(function (input) {
      set(input, {padding: '.5rem', fontSize: '1rem', border: '1px solid #ccc', borderRadius: '4px'});
    });
    set(wrapper.querySelector('.SandboxPaymentElement-error'),
        {gridColumn: '1/-1', color: '#df1b41', fontSize: '.85rem', minHeight: '1em'});
  }

  PaymentElement.prototype.mount = function (target) {
    var node = typeof target === 'string' ? document.querySelector(target) : target;
    if (!node) {
      throw IntegrationError('Invalid DOM element or selector passed to mount(): ' + target);
    }
    var id = this._id;
    var wrapper = document.createElement('div');
    wrapper.className = 'SandboxPaymentElement';
    wrapper.setAttribute('data-sandbox-element', this._type);
    wrapper.innerHTML =
      '<label for="' + id + '-number">Card number<input id="' + id + '-number" ' +
      'class="SandboxPaymentElement-number" type="text" inputmode="numeric" ' +
      'autocomplete="cc-number" placeholder="1234 1234 1234 1234" aria-label="Card number">' +
      '</label>' +
      '<label for="' + id + '-expiry">Expiration<input id="' + id + '-expiry" ' +
      'class="SandboxPaymentElement-expiry" type="text" inputmode="numeric" ' +
      'autocomplete="cc-exp" placeholder="MM / YY" aria-label="Expiration date MM / YY">' +
      '</label>' +
      '<label for="' + id + '-cvc">CVC<input id="' + id + '-cvc" ' +
      'class="SandboxPaymentElement-cvc" type="text" inputmode="numeric" ' +
      'autocomplete="cc-csc" placeholder="CVC" aria-label="CVC"></label>' +
      '<div class="SandboxPaymentElement-error" role="alert"></div>';
    styleElement(wrapper);
    node.innerHTML = '';
    node.appendChild(wrapper);
    this._container = wrapper;
    this._number = wrapper.querySelector('.SandboxPaymentElement-number');
    this._expiry = wrapper.querySelector('.SandboxPaymentElement-expiry');
    this._cvc = wrapper.querySelector('.SandboxPaymentElement-cvc');
    this._errorNode = wrapper.querySelector('.SandboxPaymentElement-error');
    var self = this;
    this._number.addEventListener('input', function () {
      var digits = self._number.value.replace(/\D/g, '').slice(0, 19);
      self._number.value = digits.replace(/(\d{4})(?=\d)/g, '$1 ');
      self._changed();
    });
    this._expiry.addEventListener('input', function (event) {
      var digits = self._expiry.value.replace(/\D/g, '').slice(0, 4);
      var deleting = event.inputType && event.inputType.indexOf('delete') === 0;
      self._expiry.value = digits.length > 2 || (digits.length === 2 && !deleting)
        ? digits.slice(0, 2) + ' / ' + digits.slice(2) : digits;
      self._changed();
    });
    this._cvc.addEventListener('input', function () {
      self._cvc.value = self._cvc.value.replace(/\D/g, '').slice(0, 4);
      self._changed();
    });
    [this._number, this._expiry, this._cvc].forEach(function (input) {
      input.addEventListener('focus', function () { self._emit('focus', {elementType: self._type}); });
      input.addEventListener('blur', function () { self._emit('blur', {elementType: self._type}); });
    });
    setTimeout(function () { self._emit('ready', {elementType: self._type}); }, 0);
  };

  PaymentElement.prototype._card = function () {
    var expiry = (this._expiry ? this._expiry.value : '').replace(/\D/g, '');
    return {
      number: (this._number ? this._number.value : '').replace(/\D/g, ''),
      exp_month: expiry.slice(0, 2),
      exp_year: expiry.slice(2, 4),
      cvc: this._cvc ? this._cvc.value : '',
    };
  };

  PaymentElement.prototype._validate = function () {
    var card = this._card();
    var problem = null;
    if (card.number.length < 12) {
      problem = ['incomplete_number', 'Your card number is incomplete.'];
    } else if (!luhnValid(card.number)) {
      problem = ['invalid_number', 'Your card number is invalid.'];
    } else if (card.exp_month.length < 2 || card.exp_year.length < 2) {
      problem = ['incomplete_expiry', "Your card's expiration date is incomplete."];
    } else {
      var month = Number(card.exp_month);
      var year = 2000 + Number(card.exp_year);
      var now = new Date();
      if (month < 1 || month > 12) {
        problem = ['invalid_expiry_month', "Your card's expiration date is invalid."];
      } else if (year < now.getFullYear() ||
                 (year === now.getFullYear() && month < now.getMonth() + 1)) {
        problem = ['invalid_expiry_year_past', "Your card's expiration year is in the past."];
      } else if (card.cvc.length < 3) {
        problem = ['incomplete_cvc', "Your card's security code is incomplete."];
      }
    }
    if (!problem) { return null; }
    return {type: 'validation_error', code: problem[0], message: problem[1]};
  };

  PaymentElement.prototype._changed = function () {
    var card = this._card();
    var error = this._validate();
    this._emit('change', {
      elementType: this._type, empty: !card.number && !card.cvc && !card.exp_month,
      complete: !error, value: {type: 'card'},
    });
    if (!error && this._errorNode) { this._errorNode.textContent = ''; }
  };

  PaymentElement.prototype._showError = function (error) {
    if (this._errorNode) { this._errorNode.textContent = error ? error.message : ''; }
  };

  PaymentElement.prototype.unmount = function () {
    if (this._container && this._container.parentNode) {
      this._container.parentNode.removeChild(this._container);
    }
    this._container = null;
  };
  PaymentElement.prototype.destroy = function () {
    this.unmount();
    delete this._elements._created[this._type];
  };
  PaymentElement.prototype.clear = function () {
    [this._number, this._expiry, this._cvc].forEach(function (input) {
      if (input) { input.value = ''; }
    });
  };
  PaymentElement.prototype.focus = function () { if (this._number) { this._number.focus(); } };
  PaymentElement.prototype.blur = function () {
    if (document.activeElement && this._container &&
        this._container.contains(document.activeElement)) { document.activeElement.blur(); }
  };
  PaymentElement.prototype.update = function (options) {
    Object.assign(this._options, options || {});
  };
  PaymentElement.prototype.collapse = function () {};

  // ---------------------------------------------------------------------------------------
  // Elements group
  // ---------------------------------------------------------------------------------------
  function Elements(stripe, options) {
    this._stripe = stripe;
    this._options = Object.assign({}, options || {});
    this._created = {};
  }

  Elements.prototype.create = function (type, options) {
    if (type !== 'payment' && type !== 'card') {
      throw IntegrationError('The Stripe sandbox supports only the "payment" and "card" ' +
                             'elements, not "' + type + '".');
    }
    if (this._created[type]) {
      throw IntegrationError('Can only create one Element of type ' + type + '.');
    }
    var element = new PaymentElement(this, type, options);
    this._created[type] = element;
    return element;
  };
  Elements.prototype.getElement = function (type) { return this._created[type] || null; };
  Elements.prototype.update = function (options) { Object.assign(this._options, options || {}); };
  Elements.prototype.fetchUpdates = function () { return Promise.resolve({}); };
  Elements.prototype._element = function () {
    return this._created.payment || this._created.card || null;
  };
  Elements.prototype.submit = function () {
    var element = this._element();
    if (!element) {
      return Promise.resolve({error: {type: 'validation_error', code: 'incomplete',
                                      message: 'No payment element is mounted.'}});
    }
    var error = element._validate();
    element._showError(error);
    return Promise.resolve(error ? {error: error} : {});
  };

  // ---------------------------------------------------------------------------------------
  // Stripe
  // ---------------------------------------------------------------------------------------
  function StripeInstance(publishableKey, options) {
    this._key = publishableKey;
    this._options = options || {};
  }

  StripeInstance.prototype._api = function (method, path, params) {
    var headers = {Authorization: 'Bearer ' + this._key,
                   'Content-Type': 'application/x-www-form-urlencoded'};
    if (this._options.stripeAccount) { headers['Stripe-Account'] = this._options.stripeAccount; }
    var encoded = encodeForm(params || {});
    var url = API_BASE + path + (method === 'GET' && encoded ? '?' + encoded : '');
    return fetch(url, {method: method, headers: headers,
                       body: method === 'GET' ? undefined : encoded})
      .then(function (response) {
        return response.json().then(function (json) { return {status: response.status, json: json}; });
      })
      .catch(function (failure) {
        return {status: 0, json: {error: {type: 'api_connection_error',
                                          message: 'Could not reach the Stripe sandbox: ' + failure}}};
      });
  };

  StripeInstance.prototype.elements = function (options) { return new Elements(this, options); };

  StripeInstance.prototype.retrievePaymentIntent = function (clientSecret) {
    var intentId = intentIdFromSecret(clientSecret);
    return this._api('GET', '/v1/payment_intents/' + intentId, {client_secret: clientSecret})
      .then(function (result) {
        return result.status >= 200 && result.status < 300
          ? {paymentIntent: result.json} : {error: result.json.error};
      });
  };

  StripeInstance.prototype.confirmPayment = function (options) {
    options = options || {};
    var elements = options.elements;
    var confirmParams = Object.assign({}, options.confirmParams || {});
    var redirect = options.redirect || 'always';
    var clientSecret = options.clientSecret || (elements && elements._options.clientSecret);
    if (!elements) {
      throw IntegrationError('stripe.confirmPayment(): expected `elements` to be passed.');
    }
    if (!clientSecret) {
      throw IntegrationError('stripe.confirmPayment(): a clientSecret is required (pass it to ' +
                             'stripe.elements() or to confirmPayment()).');
    }
    if (redirect === 'always' && !confirmParams.return_url) {
      throw IntegrationError('stripe.confirmPayment(): the `confirmParams.return_url` argument ' +
                             "is required unless passing `redirect: 'if_required'`");
    }
    var element = elements._element();
    var validation = element ? element._validate() : {type: 'validation_error',
      code: 'incomplete', message: 'No payment element is mounted.'};
    if (validation) {
      if (element) { element._showError(validation); }
      return Promise.resolve({error: validation});
    }
    var card = element._card();
    var intentId = intentIdFromSecret(clientSecret);
    var paymentMethodData = Object.assign({}, confirmParams.payment_method_data || {});
    paymentMethodData.type = 'card';
    paymentMethodData.card = card;
    var returnUrl = confirmParams.return_url || window.location.href;
    var params = Object.assign({}, confirmParams, {
      client_secret: clientSecret, payment_method_data: paymentMethodData,
      return_url: returnUrl,
    });
    return this._api('POST', '/v1/payment_intents/' + intentId + '/confirm', params)
      .then(function (result) {
        if (result.status < 200 || result.status >= 300) {
          // Like Stripe.js, a decline is returned for the page to show, not drawn in the element.
          var error = result.json.error || {type: 'api_error', message: 'Unknown error'};
          return {error: error};
        }
        var intent = result.json;
        var next = intent.next_action;
        if (intent.status === 'requires_action' && next && next.type === 'redirect_to_url') {
          window.location.assign(next.redirect_to_url.url);
          return new Promise(function () {});  // the page is navigating away
        }
        if (redirect === 'if_required') {
          return {paymentIntent: intent};
        }
        window.location.assign(withQuery(returnUrl, {
          payment_intent: intent.id,
          payment_intent_client_secret: intent.client_secret,
          redirect_status: intent.status === 'succeeded' ? 'succeeded'
            : intent.status === 'processing' ? 'pending' : 'failed',
        }));
        return new Promise(function () {});
      });
  };

  StripeInstance.prototype.confirmCardPayment = function (clientSecret, data) {
    // Legacy Card Element flow: {payment_method: {card: cardElement}}.
    var element = data && data.payment_method && data.payment_method.card;
    if (!element || !element._elements) {
      throw IntegrationError('stripe.confirmCardPayment(): pass {payment_method: {card: element}}.');
    }
    return this.confirmPayment({elements: element._elements, clientSecret: clientSecret,
                                redirect: 'if_required',
                                confirmParams: {return_url: data.return_url}});
  };

  function Stripe(publishableKey, options) {
    if (typeof publishableKey !== 'string' || publishableKey.indexOf('pk_') !== 0) {
      throw IntegrationError('Invalid value for Stripe(): apiKey should be a publishable key ' +
                             '(pk_test_...). You specified: ' + publishableKey + '.');
    }
    if (publishableKey.indexOf('pk_live_') === 0) {
      throw IntegrationError('The Stripe sandbox only accepts test keys (pk_test_...).');
    }
    return new StripeInstance(publishableKey, options);
  }
  Stripe.version = 3;
  Stripe.sandbox = true;

  window.Stripe = Stripe;
})();
