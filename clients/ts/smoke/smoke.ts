// The smoke flow a front end runs, through the generated client against a
// running app: register, a 409 and a 422 read as typed problems, the
// password grant, /me, a refresh, /me with the new token. Usage:
//   node dist/smoke/smoke.js http://127.0.0.1:8080
// It prints one JSON line and exits non-zero at the first surprise.
import { bearer, newClient, passwordGrant, refreshGrant, type Problem } from "../src/index.js";

const base = process.argv[2];
if (!base) throw new Error("usage: smoke.js BASE_URL");

function fail(step: string, detail: unknown): never {
  console.error(JSON.stringify({ ok: false, step, detail }));
  process.exit(1);
}

let access: string | undefined;
const api = newClient(base);
api.use(bearer(() => access));

const email = `smoke-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
const password = "a long smoke passphrase";

const reg = await api.POST("/api/auth/register", { body: { email, password, full_name: "Zoë Smoke" } });
// 201 carries the account (EMAIL_VERIFICATION off, as here); 202 only a message.
const created = reg.data && "email" in reg.data ? reg.data : undefined;
if (reg.response.status !== 201 || created?.email !== email) fail("register", reg.error ?? reg.response.status);

const again = await api.POST("/api/auth/register", { body: { email, password } });
const taken: Problem | undefined = again.error;
if (again.response.status !== 409 || taken?.code !== "email_taken") fail("409 email_taken", taken);

const short = await api.POST("/api/auth/register", { body: { email: "not-an-email", password: "x" } });
const invalid: Problem | undefined = short.error;
if (short.response.status !== 422 || invalid?.code !== "validation_failed" || !invalid.errors?.length) fail("422 validation_failed", invalid);

const login = await passwordGrant(api, email, password);
if (!login.data) fail("password grant", login.error);
access = login.data.access_token;

const me = await api.GET("/api/users/me");
if (me.data?.email !== email) fail("/me", me.error ?? me.response.status);

if (!login.data.refresh_token) fail("refresh token", login.data);
const renewed = await refreshGrant(api, login.data.refresh_token);
if (!renewed.data || renewed.data.access_token === access) fail("refresh grant", renewed.error);
access = renewed.data.access_token;

const me2 = await api.GET("/api/users/me");
if (me2.data?.email !== email) fail("/me after refresh", me2.error ?? me2.response.status);

console.log(JSON.stringify({ ok: true, email, problems: [taken.code, invalid.code, invalid.errors?.map((e) => e.code)] }));
