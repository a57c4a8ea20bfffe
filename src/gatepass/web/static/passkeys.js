// Passkeys (WebAuthn) for gatepass's own pages: no inline script, no third party.
//
// A form marked data-passkey="register" | "sign-in" | "second-factor" runs a ceremony:
//   1. POST JSON to its data-options URL          -> the server's options (base64url)
//   2. navigator.credentials.create() or .get()    (the authenticator asks the person)
//   3. POST JSON {credential, name?, next?} to its action URL -> {"redirect": ...}
// Every request carries the page's CSRF token in X-CSRF-Token. Errors are shown in the
// form's [data-passkey-status] element; {"redirect"} in an error is followed (sign in,
// confirm it is you).
(function () {
  "use strict";

  function toBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  function creationOptions(options) {
    return Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      user: Object.assign({}, options.user, { id: toBytes(options.user.id) }),
      excludeCredentials: descriptors(options.excludeCredentials),
    });
  }

  function requestOptions(options) {
    return Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      allowCredentials: descriptors(options.allowCredentials),
    });
  }

  function credentialJSON(credential) {
    const response = credential.response;
    const out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: { clientDataJSON: toText(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      if (response.userHandle) {
        out.response.userHandle = toText(response.userHandle);
      }
    }
    return out;
  }

  async function post(url, csrfToken, body) {
    const answer = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
      body: JSON.stringify(body),
    });
    let data = {};
    try {
      data = await answer.json();
    } catch (ignored) {
      data = {};
    }
    if (!answer.ok) {
      if (data.redirect) {
        window.location.assign(data.redirect);
      }
      throw new Error(data.message || "The request failed. Please try again.");
    }
    return data;
  }

  function field(form, name) {
    const input = form.querySelector('[name="' + name + '"]');
    return input ? input.value : "";
  }

  async function run(form) {
    const kind = form.dataset.passkey;
    const csrfToken = field(form, "csrf_token");
    const options = await post(form.dataset.options, csrfToken, {});
    let credential;
    if (kind === "register") {
      credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
    } else {
      credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
    }
    if (!credential) {
      throw new Error("No passkey was chosen.");
    }
    const body = { credential: credentialJSON(credential) };
    if (kind === "register") {
      body.name = field(form, "name");
    } else {
      body.next = field(form, "next");
    }
    const done = await post(form.getAttribute("action"), csrfToken, body);
    window.location.assign(done.redirect);
  }

  function show(form, message) {
    const status = form.querySelector("[data-passkey-status]");
    if (status) {
      status.textContent = message;
      status.hidden = false;
    }
  }

  function attach(form) {
    if (!window.PublicKeyCredential) {
      show(form, "This browser does not support passkeys.");
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const button = form.querySelector("button");
      if (button) {
        button.disabled = true;
      }
      run(form).catch(function (error) {
        const cancelled = error && error.name === "NotAllowedError";
        show(form, cancelled ? "The passkey request was cancelled or timed out." : error.message);
        if (button) {
          button.disabled = false;
        }
      });
    });
    form.dataset.passkeyReady = "yes";
  }

  document.querySelectorAll("form[data-passkey]").forEach(attach);
})();
