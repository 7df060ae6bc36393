// The README walk-through written against types generated from openapi/openapi.json with
// openapi-typescript's default options. `make contract-ts` generates the types (and
// generated/examples.ts from docs/example-*.json) and type-checks this file with tsc.
import createClient from "openapi-fetch";
import type { components, paths, webhooks } from "./generated/api";
import { referralExample, selfRegistrationExample } from "./generated/examples";

type Schemas = components["schemas"];

export async function walkThrough(base: string, admin: { id: string; secret: string }, staffToken: string) {
  const api = createClient<paths>({ baseUrl: `${base}/api/v1` });

  // 1. an access token (OAuth 2.0 client credentials)
  const { data: token } = await api.POST("/oauth/token", {
    body: { grant_type: "client_credentials", client_id: admin.id, client_secret: admin.secret },
    bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
  });
  const bearer = { Authorization: `Bearer ${token?.access_token ?? ""}` };

  // 2. an admin makes a referrer client
  const clientIn: Schemas["ClientIn"] = {
    organisation: "verloskundigen-zuid",
    name: "Praktijk Zuid",
    scopes: ["referrals:write", "referrals:read"],
  };
  const { data: created } = await api.POST("/clients", { headers: bearer, body: clientIn });
  const secret: string | undefined = created?.clientSecret;

  // 3. the referrer refers a client, safe to retry with the same Idempotency-Key
  const referral: Schemas["ReferralIn"] = referralExample;
  const { data: view } = await api.POST("/referrals", {
    headers: { ...bearer, "Idempotency-Key": crypto.randomUUID() },
    body: referral,
  });
  const id: string = view?.id ?? "";
  await api.GET("/referrals/{id}", { headers: bearer, params: { path: { id } } });

  // 4. a woman registers herself
  const selfRegistration: Schemas["SelfRegistrationIn"] = selfRegistrationExample;
  const { data: accepted } = await api.POST("/self-registrations", { body: selfRegistration });
  const reference: string | undefined = accepted?.reference;

  // 5. staff: the worklist, then work the intake
  const staff = { Authorization: `Bearer ${staffToken}` };
  const { data: page } = await api.GET("/intakes", { headers: staff, params: { query: { limit: 50 } } });
  const first: Schemas["IntakeSummary"] | undefined = page?.items[0];
  const now = new Date().toISOString();
  await api.POST("/intakes/{id}/contacts", {
    headers: staff,
    params: { path: { id } },
    body: { at: now, channel: "phone", reached: true },
  });
  await api.POST("/intakes/{id}/assessment", {
    headers: staff,
    params: { path: { id } },
    body: { visitedAt: now, location: "home", concerns: ["social_isolation"] },
  });
  const { data: routed } = await api.POST("/intakes/{id}/routing", { headers: staff, params: { path: { id } }, body: {} });
  const programme: string | null | undefined = routed?.routing?.recommendation?.programme;
  await api.POST("/intakes/{id}/routing", {
    headers: staff,
    params: { path: { id } },
    body: { programme: programme ?? "wijkteam" },
  });
  const { data: handoff } = await api.POST("/intakes/{id}/handoffs", { headers: staff, params: { path: { id } } });

  // 6. the programme accepts and reports first contact and the start of support
  const handoffId: string = handoff?.id ?? "";
  await api.POST("/handoffs/{id}/accept", { headers: bearer, params: { path: { id: handoffId } } });
  await api.POST("/handoffs/{id}/first-contact", { headers: bearer, params: { path: { id: handoffId } }, body: { at: now } });
  await api.POST("/handoffs/{id}/support-started", {
    headers: bearer,
    params: { path: { id: handoffId } },
    body: { at: now },
  });
  return { secret, reference, first };
}

// 7. a receiver of webhooks: each event type's body is typed from the document's `webhooks`
type Delivery<T extends keyof webhooks> = webhooks[T]["post"]["requestBody"]["content"]["application/json"];

export function onHandoffOffered(body: Delivery<"handoff.offered">): string {
  const { handoffId, programme, url, deadlines } = body.data;
  const due: string | undefined = deadlines[0]?.dueAt;
  return `${handoffId} ${programme ?? "-"} ${url} ${due ?? ""}`;
}

export function onIntakeClosed(body: Delivery<"intake.closed">): string {
  // a duplicate's close names the intake it was merged into
  return "mergedInto" in body.data ? `merged into ${body.data.mergedInto}` : body.data.closeReason;
}
