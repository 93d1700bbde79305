/* Every page: the phone header menu, the browse filter panel, the photo gallery.
 * No inline scripts (CSP); everything works without JavaScript, this only tidies it up. */
(function () {
  "use strict";

  var WIDE = "(min-width: 720px)";

  function initNavMenu() {
    var header = document.querySelector(".site-header");
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("main-nav");
    if (!header || !toggle || !nav) return;
    header.classList.add("has-menu");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) {
        header.classList.remove("menu-open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }

  function initFilterPanel() {
    // The page renders it open (works without JavaScript); on a phone it folds away so the
    // results come first, unless a search is in force or a filter needs fixing.
    var panel = document.querySelector("details.filter-panel");
    if (!panel || !window.matchMedia || window.matchMedia(WIDE).matches) return;
    if (panel.getAttribute("data-keep-open") !== "1") panel.open = false;
  }

  function initGallery() {
    var gallery = document.querySelector("[data-gallery]");
    if (!gallery) return;
    var main = gallery.querySelector("[data-gallery-main]");
    var zoom = gallery.querySelector("[data-gallery-zoom]");
    var thumbs = gallery.querySelectorAll("[data-gallery-thumb]");
    Array.prototype.forEach.call(thumbs, function (thumb) {
      thumb.addEventListener("click", function (event) {
        event.preventDefault();
        main.src = thumb.getAttribute("data-full");
        main.alt = thumb.getAttribute("data-alt") || main.alt;
        if (zoom) zoom.href = thumb.getAttribute("data-full");
        Array.prototype.forEach.call(thumbs, function (other) {
          other.setAttribute("aria-current", other === thumb ? "true" : "false");
        });
      });
    });
    var dialog = document.getElementById("gallery-zoom-dialog");
    if (zoom && dialog && typeof dialog.showModal === "function") {
      var big = dialog.querySelector("img");
      zoom.addEventListener("click", function (event) {
        event.preventDefault();
        big.src = main.src;
        big.alt = main.alt;
        dialog.showModal();
      });
      dialog.addEventListener("click", function (event) {
        if (event.target === dialog || event.target.hasAttribute("data-close")) dialog.close();
      });
      big.addEventListener("click", function () { big.classList.toggle("zoomed"); });
    }
  }

  function start() {
    initNavMenu();
    initFilterPanel();
    initGallery();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
