// The notes page: plain ES module, no build step.
//
// Token storage (OAuth 2.0 for Browser-Based Apps): the access token lives only in the
// variable below. Never localStorage, sessionStorage or a script-readable cookie: those
// outlive the page and any injected script could read them at leisure. The refresh token
// never reaches this script at all: the backend-for-frontend keeps it in an HttpOnly
// cookie and hands out access tokens from POST /bff/token. So a reload loses the access
// token and asks for a new one, silently, without a trip to gatepass's login page.

let accessToken = null;
let pendingRefresh = null; // one refresh at a time: several 401s share it
let apiUrl = null;

const $ = (id) => document.getElementById(id);

class SignedOut extends Error {}

// POST /bff/token: the BFF presents the refresh token cookie at gatepass and answers a
// fresh access token. The custom header is the BFF's CSRF check (a cross-site form
// cannot send it). Resolves to whether we now hold a token.
function refresh() {
  pendingRefresh ??= fetch("/bff/token", {
    method: "POST",
    headers: { "X-Requested-With": "fetch" },
    credentials: "same-origin",
  })
    .then(async (response) => (response.ok ? (await response.json()).access_token : null))
    .catch(() => null)
    .then((token) => {
      accessToken = token;
      pendingRefresh = null;
      return token !== null;
    });
  return pendingRefresh;
}

function send(method, path, body) {
  const headers = { Authorization: `Bearer ${accessToken}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // No cookies to the api (credentials "omit"): it knows the caller by the token alone.
  return fetch(apiUrl + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
  });
}

// A call to the api with the token from memory; on a 401 (expired or revoked) one silent
// refresh and one retry, then the user is signed out.
async function api(method, path, body) {
  let response = accessToken === null ? null : await send(method, path, body);
  if (response === null || response.status === 401) {
    if (!(await refresh())) throw new SignedOut();
    response = await send(method, path, body);
    if (response.status === 401) throw new SignedOut();
  }
  if (!response.ok) throw new Error(`the api answered ${response.status}`);
  return response.json();
}

function show(signedIn, message = "") {
  $("signed-in").hidden = !signedIn;
  $("signed-out").hidden = signedIn;
  $("status").textContent = message;
}

function signedOut(message) {
  accessToken = null;
  show(false, message);
}

function renderNotes(notes) {
  // textContent, never innerHTML: a note is data, not markup.
  $("notes").replaceChildren(
    ...notes.map((note) => {
      const item = document.createElement("li");
      item.textContent = note.text;
      return item;
    }),
  );
}

// Runs an api action; a SignedOut ends the signed-in view, other errors are shown.
async function guarded(action) {
  try {
    await action();
  } catch (error) {
    if (error instanceof SignedOut) signedOut("You have been signed out. Sign in again.");
    else $("status").textContent = `Something went wrong: ${error.message}`;
  }
}

const loadNotes = () => guarded(async () => renderNotes((await api("GET", "/notes")).notes));

async function addNote(event) {
  event.preventDefault();
  const input = event.target.elements.text;
  await guarded(async () => {
    await api("POST", "/notes", { text: input.value });
    input.value = "";
    renderNotes((await api("GET", "/notes")).notes);
  });
}

async function logOut() {
  await fetch("/bff/logout", {
    method: "POST",
    headers: { "X-Requested-With": "fetch" },
    credentials: "same-origin",
  });
  signedOut("You are signed out of this app.");
}

async function start() {
  apiUrl = (await (await fetch("/bff/config")).json()).api_url;
  $("new-note").addEventListener("submit", addNote);
  $("reload-notes").addEventListener("click", loadNotes);
  $("logout").addEventListener("click", logOut);

  const signin = new URLSearchParams(location.search).get("signin");
  if (signin !== null) history.replaceState(null, "", "/");
  if (!(await refresh())) {
    const why = { denied: "Sign-in was cancelled.", failed: "Sign-in failed." }[signin];
    signedOut(why ?? "");
    return;
  }
  await guarded(async () => {
    const me = await api("GET", "/me");
    $("subject").textContent = me.sub;
    show(true);
    renderNotes((await api("GET", "/notes")).notes);
  });
}

start();
