// The browser part of the browser test (started by run.py, which runs the server and hands over, as
// JSON on standard input: base_url, port, email, password, org_name, clients [{token, virtual_ip,
// email}] x 2, out_dir, npm_dir, chromium, seed_client).
//
// In Debian's headless Chromium, through playwright-core (auto-waiting locators, no fixed sleeps):
//  1. /docs: "Authorize" with the OAuth2 password form (POST /login, form-encoded), close the
//     dialog, GET /organizations with "Try it out" / "Execute": the page shows 200 and the
//     organization; screenshot to <out_dir>/docs-authorized.png;
//  2. in the same page, the seed README's JavaScript WebSocket client (seed_ws_client.js, the
//     README's code unchanged but for host, port and token) registers: register_agent_response,
//     status "registered", the allocated virtual IP;
//  3. in a second page, the same client for the second user: its answer lists the first as an
//     existing peer, the first page receives peer_online (and the seed client's addPeerToMemory
//     gets it); closing the second page gives the first peer_offline.
// Any failure: a message naming the step, a screenshot <out_dir>/docs-failure.png, exit code 1.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const config = JSON.parse(readFileSync(0, "utf8"));
const require = createRequire(path.join(config.npm_dir, "package.json"));
const { chromium } = require("playwright-core");

// A guard against a hung page, never a synchronisation device (/docs takes ~12 s to load on a busy
// 2-core machine).
const STEP_TIMEOUT_MS = 60_000;
const SEED_URL = "ws://localhost:8000/ws?token=<jwt_token>";
const seedSource = readFileSync(config.seed_client, "utf8");
if (seedSource.split(SEED_URL).length !== 2) throw new Error(`${config.seed_client} must contain ${SEED_URL} once`);

let step = "start";
const started = Date.now();
const log = (message) => console.log(`browser test: [${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);

// The seed client with only the server's address and the token substituted.
function seedClient(token) {
  return seedSource.replace(SEED_URL, `ws://127.0.0.1:${config.port}/ws?token=${encodeURIComponent(token)}`);
}

// What one page's WebSocket received (Playwright's own frame events: the seed code is not touched)
// and printed on its console; waitFrame/waitConsole resolve on the first match, or fail after a
// step's timeout with everything seen so far.
function observe(page, label) {
  const frames = [];
  const consoleLines = [];
  const waiters = [];
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  page.on("websocket", (socket) => {
    socket.on("framereceived", ({ payload }) => {
      try {
        frames.push(JSON.parse(payload.toString()));
      } catch {
        frames.push({ unparsable: String(payload) });
      }
      wake();
    });
  });
  page.on("console", (message) => {
    consoleLines.push(message.text());
    wake();
  });
  page.on("pageerror", (error) => {
    consoleLines.push(`pageerror: ${error.message}`);
    wake();
  });
  const waitFor = (what, list, predicate) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = list.find(predicate);
        if (found === undefined) return false;
        waiters.splice(waiters.indexOf(check), 1);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1);
        reject(
          new Error(
            `${label}: no ${what} within ${STEP_TIMEOUT_MS} ms; frames received: ${JSON.stringify(frames)}; ` +
              `console: ${JSON.stringify(consoleLines)}`,
          ),
        );
      }, STEP_TIMEOUT_MS);
      waiters.push(check);
      check();
    });
  return {
    frames,
    consoleLines,
    waitFrame: (what, predicate) => waitFor(what, frames, predicate),
    waitConsole: (what, predicate) => waitFor(what, consoleLines, predicate),
  };
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// The seed client calls storePeersInMemory / addPeerToMemory, which the README leaves to the
// reader: here they keep what they are given, for the test to look at.
async function runSeedClient(page, token) {
  await page.evaluate(() => {
    window.seedPeers = { stored: [], added: [] };
    window.storePeersInMemory = (peers) => window.seedPeers.stored.push(peers);
    window.addPeerToMemory = (peer) => window.seedPeers.added.push(peer);
  });
  await page.addScriptTag({ content: seedClient(token) });
}

async function docsAuthorizeAndList(page) {
  step = "open /docs";
  await page.goto(`${config.base_url}/docs`);
  const authorize = page.locator(".scheme-container").getByRole("button", { name: "Authorize" });
  await authorize.waitFor();

  step = 'open the "Authorize" dialog';
  await authorize.click();
  const dialog = page.locator(".dialog-ux .modal-ux");
  const oauth = dialog.locator(".auth-container").filter({ hasText: "OAuth2PasswordBearer" });
  await oauth.waitFor();

  step = "fill in the OAuth2 password form and authorize";
  await oauth.locator("#oauth_username").fill(config.email);
  await oauth.locator("#oauth_password").fill(config.password);
  const [login] = await Promise.all([
    page.waitForResponse((response) => new URL(response.url()).pathname === "/login"),
    oauth.getByRole("button", { name: "Apply given OAuth2 credentials" }).click(), // the "Authorize" button
  ]);
  const loginRequest = login.request();
  const sent = loginRequest.headers()["content-type"] ?? "";
  check(
    sent.startsWith("application/x-www-form-urlencoded"),
    `Swagger UI's password flow sent Content-Type ${JSON.stringify(sent)}, not a form`,
  );
  check(login.status() === 200, `POST /login from the Authorize dialog: ${login.status()} ${await login.text()}`);
  await oauth.getByRole("button", { name: "Remove authorization" }).waitFor(); // "Logout": shown once authorized
  const fields = [...new URLSearchParams(loginRequest.postData() ?? "").keys()].join(", ");
  log(`authorized through the OAuth2 password form (POST /login, ${sent}, fields ${fields}: ${login.status()})`);

  step = "close the Authorize dialog";
  await oauth.getByRole("button", { name: "Close", exact: true }).click();
  await dialog.waitFor({ state: "detached" });

  step = "expand GET /organizations";
  const operation = page.locator("#operations-organizations-listOrganizations");
  await operation.locator(".opblock-summary-control").click();
  await operation.getByRole("button", { name: "Try it out" }).click();

  step = 'GET /organizations with "Execute"';
  const [listed] = await Promise.all([
    page.waitForResponse(
      (response) => new URL(response.url()).pathname === "/organizations" && response.request().method() === "GET",
    ),
    operation.getByRole("button", { name: "Execute" }).click(),
  ]);
  const authorization = listed.request().headers()["authorization"] ?? "";
  check(/^Bearer \S+$/.test(authorization), `GET /organizations went without a bearer token (${authorization})`);

  step = "read the response shown in the page";
  const live = operation.locator(".live-responses-table");
  const status = live.locator("tbody .response-col_status");
  await status.waitFor();
  const shownStatus = (await status.innerText()).trim();
  const shownBody = await live.locator(".response-col_description .highlight-code pre").first().innerText();
  check(shownStatus === "200", `the page shows status ${shownStatus} for GET /organizations; body: ${shownBody}`);
  let organizations;
  try {
    organizations = JSON.parse(shownBody);
  } catch (error) {
    throw new Error(`the page shows a response body that is not JSON: ${shownBody}`);
  }
  check(
    Array.isArray(organizations) && organizations.length === 1 && organizations[0].name === config.org_name,
    `the page shows ${shownBody}, expected the one organization ${JSON.stringify(config.org_name)}`,
  );
  log(`GET /organizations from /docs: the page shows 200 and ${JSON.stringify(config.org_name)}`);

  step = "screenshot";
  const screenshot = path.join(config.out_dir, "docs-authorized.png");
  await operation.scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshot });
  log(`screenshot: ${screenshot}`);
}

async function seedClients(context, firstPage) {
  const [first, second] = config.clients;
  const seen = observe(firstPage, "first page");

  step = "the seed README's WebSocket client in the /docs page";
  await runSeedClient(firstPage, first.token);
  // An error frame instead (the seed's {"error": ...}) fails at once.
  const answer = await seen.waitFrame(
    "register_agent_response",
    (frame) => frame.type === "register_agent_response" || frame.error !== undefined,
  );
  check(
    answer.status === "registered" && answer.virtual_ip === first.virtual_ip,
    `first client: expected status "registered" at ${first.virtual_ip}, got ${JSON.stringify(answer)}`,
  );
  await seen.waitConsole('"Registered successfully!"', (line) => line === "Registered successfully!");
  await seen.waitConsole("the virtual IP", (line) => line === `Virtual IP: ${first.virtual_ip}`);
  log(`seed client 1 registered at ${answer.virtual_ip} (connection ${answer.connection_id})`);

  step = "the seed client in a second page, for the second user";
  const secondPage = await context.newPage();
  const seenSecond = observe(secondPage, "second page");
  await secondPage.goto(`${config.base_url}/docs`);
  await runSeedClient(secondPage, second.token);
  const secondAnswer = await seenSecond.waitFrame(
    "register_agent_response",
    (frame) => frame.type === "register_agent_response" || frame.error !== undefined,
  );
  check(
    secondAnswer.status === "registered" && secondAnswer.virtual_ip === second.virtual_ip,
    `second client: expected status "registered" at ${second.virtual_ip}, got ${JSON.stringify(secondAnswer)}`,
  );
  const existing = secondAnswer.existing_peers ?? [];
  check(
    existing.length === 1 && existing[0].virtual_ip === first.virtual_ip && existing[0].email === first.email,
    `second client: expected the first as its one existing peer, got ${JSON.stringify(existing)}`,
  );
  log(`seed client 2 registered at ${secondAnswer.virtual_ip}; existing peer ${existing[0].virtual_ip}`);

  step = "peer_online in the first page";
  const online = await seen.waitFrame("peer_online", (frame) => frame.type === "peer_online");
  check(
    online.peer?.virtual_ip === second.virtual_ip && online.peer?.email === second.email,
    `first client: peer_online for ${JSON.stringify(online.peer)}, expected ${second.virtual_ip}`,
  );
  await seen.waitConsole('"New peer online:"', (line) => line.startsWith("New peer online:"));
  const added = await firstPage.evaluate(() => window.seedPeers.added);
  check(
    added.length === 1 && added[0].virtual_ip === second.virtual_ip,
    `the seed client's addPeerToMemory got ${JSON.stringify(added)}`,
  );
  log(`seed client 1 got peer_online for ${online.peer.virtual_ip}`);

  step = "peer_offline in the first page once the second page is closed";
  await secondPage.close();
  const offline = await seen.waitFrame("peer_offline", (frame) => frame.type === "peer_offline");
  check(
    offline.virtual_ip === second.virtual_ip,
    `first client: peer_offline ${JSON.stringify(offline)}, expected ${second.virtual_ip}`,
  );
  log(`seed client 1 got peer_offline for ${offline.virtual_ip}`);
}

const browser = await chromium.launch({
  executablePath: config.chromium,
  // Chromium's sandbox cannot start as root (CI runs as root).
  args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
});
let page;
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  page = await context.newPage();
  log(`${config.chromium} ${browser.version()} started`);
  await docsAuthorizeAndList(page);
  await seedClients(context, page);
} catch (error) {
  failed = true;
  console.error(`browser test: FAILED at step "${step}": ${error.message}`);
  if (page && !page.isClosed()) {
    const shot = path.join(config.out_dir, "docs-failure.png");
    try {
      await page.screenshot({ path: shot, fullPage: true });
      console.error(`browser test: failure screenshot: ${shot}`);
    } catch (screenshotError) {
      console.error(`browser test: no failure screenshot: ${screenshotError.message}`);
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
