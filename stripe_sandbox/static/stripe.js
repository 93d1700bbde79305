window.Stripe = function () {};
