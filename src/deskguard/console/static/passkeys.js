// deskguard console: passkeys. A form marked data-passkey="register" or "sign-in" asks the server
// for the WebAuthn options, lets the browser create or use the passkey, puts the credential (JSON)
// in the form's hidden "credential" field and submits the form: the server's answer is a page.
(function () {
  "use strict";
  var supported = window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

  function say(form, key) {
    var status = form.querySelector("[data-passkey-status]");
    if (status) { status.textContent = status.getAttribute("data-" + key) || ""; }
  }

  function ceremony(form) {
    var kind = form.getAttribute("data-passkey");
    var headers = { "Accept": "application/json" };
    var csrf = form.querySelector("input[name=csrf]");
    if (csrf) { headers["X-CSRF-Token"] = csrf.value; }
    say(form, "waiting");
    return fetch(form.getAttribute("data-options"), { method: "POST", headers: headers, credentials: "same-origin" })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("options " + answer.status); }
        return answer.json();
      })
      .then(function (options) {
        if (kind === "register") {
          return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
        }
        return navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      })
      .then(function (credential) {
        form.querySelector("input[name=credential]").value = JSON.stringify(credential.toJSON());
        form.submit();
      });
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    if (!supported) { say(form, "unsupported"); return; }
    form.addEventListener("submit", function (event) {
      if (form.querySelector("input[name=credential]").value) { return; }
      event.preventDefault();
      ceremony(form).catch(function () { say(form, "failed"); });
    });
  });
})();
