/* Passkeys: a form with data-passkey="register" or "signin" carries the options the
   server gave in data-options; the browser asks the authenticator, and the answer is
   sent in the form's "credential" field. Without JavaScript the page says so. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-passkey]");
  if (!form || !window.PublicKeyCredential) { return; }
  var status = document.getElementById("passkey-status");
  var ask = form.getAttribute("data-passkey") === "register" ? handleRegister : handleSignin;
  ask(form.getAttribute("data-options")).then(function (result) {
    if (result.error_msg) {
      form.hidden = false;
      if (status) { status.textContent = form.getAttribute("data-failed"); status.hidden = false; }
      return;
    }
    form.querySelector("[name=credential]").value = result.credential;
    form.submit();
  });
})();
