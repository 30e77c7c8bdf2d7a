// mailtally pages: small progressive enhancements. Every page works without this script.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The browser's offset from UTC, for server-rendered dates; reload once if it changed.
  var minutes = -new Date().getTimezoneOffset();
  var match = document.cookie.match(/(?:^|;\s*)mt_tz=(-?\d+)/);
  var known = match ? parseInt(match[1], 10) : null;
  if (known !== minutes) {
    document.cookie = "mt_tz=" + minutes + "; path=/; max-age=31536000; SameSite=Lax";
    var stored = /(?:^|;\s*)mt_tz=/.test(document.cookie);
    var signedIn = !document.body.classList.contains("plain");
    var pinned = /[?&]tz=/.test(location.search);
    if (stored && signedIn && !pinned) { location.reload(); return; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Range: presets apply at once; Custom reveals the dates.
    document.querySelectorAll("form.range").forEach(function (form) {
      var select = form.querySelector("select[name=range]");
      var dates = form.querySelector("[data-custom]");
      var sync = function () {
        var custom = select.value === "custom";
        dates.hidden = !custom;
        dates.querySelectorAll("input").forEach(function (i) { i.disabled = !custom; });
      };
      sync();
      select.addEventListener("change", function () {
        sync();
        if (select.value === "custom") {
          dates.querySelector("input").focus();
        } else {
          form.submit();
        }
      });
    });

    // Show/Hide for secret fields.
    document.querySelectorAll("button[data-reveal]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-reveal"));
      button.addEventListener("click", function () {
        var show = input.type === "password";
        input.type = show ? "text" : "password";
        button.textContent = show ? "Hide" : "Show";
        button.setAttribute("aria-pressed", show ? "true" : "false");
      });
    });

    // Clear: a cleared key cannot be typed over at the same time.
    [["clear_signing_key", "signing_key"], ["clear_account", "api_key"]].forEach(function (p) {
      var box = document.getElementById(p[0]);
      var input = document.getElementById(p[1]);
      if (!box || !input) { return; }
      box.addEventListener("change", function () {
        input.disabled = box.checked;
        if (box.checked) { input.value = ""; }
      });
    });
  });
})();
