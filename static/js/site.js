/* Every page: the phone header menu, the browse filter panel, the photo gallery and zoom,
 * the sell form's photo list, dragging photos into order.
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
    var thumbs = Array.prototype.slice.call(gallery.querySelectorAll("[data-gallery-thumb]"));
    // Every photo in order; with one photo there are no thumbnails, only the main picture.
    var photos = thumbs.length ? thumbs.map(function (thumb) {
      return { src: thumb.getAttribute("data-full"), alt: thumb.getAttribute("data-alt") || "" };
    }) : (main ? [{ src: main.src, alt: main.alt }] : []);
    var current = 0;

    function show(index) {
      current = (index + photos.length) % photos.length;
      var photo = photos[current];
      main.src = photo.src;
      main.alt = photo.alt || main.alt;
      if (zoom) zoom.href = photo.src;
      thumbs.forEach(function (thumb, i) {
        thumb.setAttribute("aria-current", i === current ? "true" : "false");
      });
    }

    thumbs.forEach(function (thumb, i) {
      thumb.addEventListener("click", function (event) {
        event.preventDefault();
        show(i);
      });
    });
    var dialog = document.getElementById("gallery-zoom-dialog");
    if (!zoom || !dialog || typeof dialog.showModal !== "function" || !photos.length) return;
    var big = dialog.querySelector("img");
    var scroller = dialog.querySelector(".zoom-scroll");
    var counter = dialog.querySelector("[data-zoom-counter]");
    var magnify = dialog.querySelector("[data-zoom-magnify]");
    var steppers = dialog.querySelectorAll("[data-zoom-step]");

    function setMagnified(on) {
      // Twice the size it fits the screen at, or its own size when that is larger: always bigger.
      big.style.width = on ? Math.max(big.naturalWidth, big.clientWidth * 2) + "px" : "";
      big.classList.toggle("zoomed", on);
      if (magnify) {
        magnify.setAttribute("aria-pressed", on ? "true" : "false");
        magnify.textContent = on ? "Zoom out" : "Zoom in";
      }
      if (on) {
        scroller.scrollLeft = (scroller.scrollWidth - scroller.clientWidth) / 2;
        scroller.scrollTop = (scroller.scrollHeight - scroller.clientHeight) / 2;
      }
    }

    function showBig(index) {
      show(index);
      setMagnified(false);
      big.src = photos[current].src;
      big.alt = photos[current].alt;
      if (counter) counter.textContent = "Photo " + (current + 1) + " of " + photos.length;
    }

    Array.prototype.forEach.call(steppers, function (button) {
      button.hidden = photos.length < 2;
      button.addEventListener("click", function () {
        showBig(current + Number(button.getAttribute("data-zoom-step")));
      });
    });
    if (magnify) magnify.addEventListener("click", function () { setMagnified(!big.classList.contains("zoomed")); });
    zoom.addEventListener("click", function (event) {
      event.preventDefault();
      showBig(current);
      dialog.showModal();
    });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog || event.target.hasAttribute("data-close")) dialog.close();
    });
    big.addEventListener("click", function () { setMagnified(!big.classList.contains("zoomed")); });
    // Escape closes the dialog by itself (a modal <dialog>); the arrows step through the photos.
    dialog.addEventListener("keydown", function (event) {
      if (photos.length < 2 || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        event.preventDefault();
        showBig(current + (event.key === "ArrowRight" ? 1 : -1));
      }
    });
    // A horizontal swipe on a touch screen steps too (pointer events: no touch-only API). While
    // magnified the finger pans the photo instead (the CSS gives the gesture back to the browser).
    var swipe = null;
    scroller.addEventListener("pointerdown", function (event) {
      if (event.pointerType === "mouse" || big.classList.contains("zoomed")) return;
      swipe = { id: event.pointerId, x: event.clientX, y: event.clientY };
    });
    scroller.addEventListener("pointerup", function (event) {
      if (!swipe || swipe.id !== event.pointerId) return;
      var dx = event.clientX - swipe.x, dy = event.clientY - swipe.y;
      swipe = null;
      if (photos.length > 1 && Math.abs(dx) > 40 && Math.abs(dx) > Math.abs(dy)) showBig(current + (dx < 0 ? 1 : -1));
    });
    scroller.addEventListener("pointercancel", function () { swipe = null; });
  }

  function initPhotoPicker() {
    // The sell form: name the chosen files in order, the first as the cover, before uploading.
    var input = document.querySelector("[data-photo-picker]");
    var list = document.querySelector("[data-photo-picked]");
    if (!input || !list) return;
    input.addEventListener("change", function () {
      list.textContent = "";
      Array.prototype.forEach.call(input.files, function (file, i) {
        var item = document.createElement("li");
        item.textContent = file.name + (i === 0 ? " (cover)" : "");
        list.appendChild(item);
      });
      list.hidden = !input.files.length;
    });
  }

  function initPhotoSort() {
    // The photo page: drag a photo by its handle (mouse, pen or finger: pointer events) to
    // another place; the drop posts the same move form the server uses for Earlier/Later.
    var list = document.querySelector("[data-photo-sort]");
    var form = document.querySelector("form[data-photo-place]");
    if (!list || !form) return;
    var hint = document.querySelector("[data-drag-hint]");
    if (hint) hint.hidden = false;
    var slots = function () { return Array.prototype.slice.call(list.querySelectorAll(".photo-slot")); };
    var dragged = null, from = -1;
    Array.prototype.forEach.call(list.querySelectorAll("[data-drag-handle]"), function (handle) {
      handle.hidden = false;
      handle.addEventListener("pointerdown", function (event) {
        if (event.button !== 0) return;
        event.preventDefault();
        dragged = handle.closest(".photo-slot");
        from = slots().indexOf(dragged);
        dragged.classList.add("dragging");
        handle.setPointerCapture(event.pointerId);
      });
      handle.addEventListener("pointermove", function (event) {
        if (!dragged) return;
        var under = document.elementFromPoint(event.clientX, event.clientY);
        var target = under && under.closest(".photo-slot");
        if (!target || target === dragged || target.parentNode !== list) return;
        var all = slots();
        list.insertBefore(dragged, all.indexOf(target) > all.indexOf(dragged) ? target.nextSibling : target);
      });
      function drop(cancelled) {
        if (!dragged) return;
        var to = slots().indexOf(dragged);
        dragged.classList.remove("dragging");
        if (!cancelled && to !== from) {
          form.elements.slot.value = dragged.getAttribute("data-slot");
          form.elements.key.value = dragged.getAttribute("data-key");
          form.elements.to.value = String(to);
          form.submit();
        } else if (to !== from) {
          list.insertBefore(dragged, slots()[from + (from > to ? 1 : 0)] || null);
        }
        dragged = null;
      }
      handle.addEventListener("pointerup", function () { drop(false); });
      handle.addEventListener("pointercancel", function () { drop(true); });
    });
    // Back from a move or a delete: put the keyboard where the photo now is.
    var landed = /^#photo-\d+$/.test(window.location.hash) && document.querySelector(window.location.hash);
    if (landed) landed.focus();
  }

  function start() {
    initNavMenu();
    initFilterPanel();
    initGallery();
    initPhotoPicker();
    initPhotoSort();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
