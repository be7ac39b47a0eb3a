"use strict";
// The auth pages' one script. The token comes from the link's fragment
// (#token=..., never sent to a server) or, for links mailed by older
// releases, its query; it is removed from the address bar at once, so it
// stays out of the history, and is sent only in a request body.
(function () {
  const flows = {
    "reset-password": {
      endpoint: "api/auth/reset-password",
      body: (token, form) => ({ token: token, new_password: form.password.value }),
      check: (form) => form.password.value === form.confirm.value ? "" : "The two passwords differ.",
      labels: { new_password: "The new password", token: "The link" },
      done: "Your password has been changed, and every session of the account has ended. Sign in with the new password.",
    },
    "verify-email": {
      endpoint: "api/auth/verify-email",
      body: (token) => ({ token: token }),
      check: () => "",
      labels: { token: "The link" },
      done: "Your email address is verified. You can close this page and sign in.",
    },
    "confirm-email": {
      endpoint: "api/auth/confirm-email",
      body: (token) => ({ token: token }),
      check: () => "",
      labels: { token: "The link" },
      done: "Your account's email address has changed. Sign in with the new address from now on.",
    },
  };

  function tokenFromLink() {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
    const fromQuery = new URLSearchParams(location.search).get("token");
    if (location.hash || location.search) {
      history.replaceState(null, "", location.pathname);
    }
    return fromHash || fromQuery || "";
  }

  function show(text, kind) {
    const status = document.getElementById("status");
    status.textContent = text;
    status.className = kind;
  }

  // problemText turns an RFC 9457 problem into what a person reads: each
  // field error's message, named by the field's label, or else the detail.
  function problemText(flow, p) {
    const fields = (p.errors || []).filter((e) => e.message).map((e) => {
      const name = flow.labels[(e.location || "").replace(/^body\./, "")];
      return (name ? name + " " : "") + e.message + ".";
    });
    return fields.length ? fields.join(" ") : (p.detail || p.title || "The request failed.");
  }

  async function submit(flow, token, form) {
    const invalid = flow.check(form);
    if (invalid) {
      show(invalid, "error");
      return;
    }
    form.send.disabled = true;
    show("Sending…", "");
    try {
      const res = await fetch(flow.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json, application/problem+json" },
        body: JSON.stringify(flow.body(token, form)),
        credentials: "omit",
        cache: "no-store",
      });
      if (res.ok) {
        form.hidden = true;
        show(flow.done, "done");
        return;
      }
      let text = "The request failed (" + res.status + ").";
      try {
        text = problemText(flow, await res.json());
      } catch (_) { /* not JSON: keep the status */ }
      show(text, "error");
    } catch (_) {
      show("The server could not be reached. Try again.", "error");
    } finally {
      form.send.disabled = false;
    }
  }

  function start() {
    const flow = flows[document.body.dataset.flow];
    const form = document.getElementById("form");
    const token = tokenFromLink();
    if (!flow) {
      show("This page does not know what to do.", "error");
    } else if (!token) {
      show("This link is incomplete: open the link from the email again, or ask for a new one.", "error");
    } else {
      form.hidden = false;
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        submit(flow, token, form);
      });
    }
    document.body.dataset.ready = "true";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
