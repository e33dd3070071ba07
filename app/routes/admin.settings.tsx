/** Organisation settings: the time zone in which the team page and reports count days and weeks. */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { orgTimeZone, setOrgTimeZone } from "~/domain/settings/org-settings.server";
import { readForm } from "~/lib/read-form.server";
import { formFailure } from "~/lib/form-failure.server";
import { issueAt, type FormFailure } from "~/lib/form-failure";
import { FormField, FormMessage, inputClass, PrimaryButton } from "~/components/ui/form-field";
import { PageHeader, Section } from "~/components/ui/page-header";
import { localDate, localWeek, zoneOffset } from "~/lib/zone";

export const meta: MetaFunction = () => [{ title: "Settings · Admin · Lastmile" }];

function describeZone(timeZone: string, now: number) {
  const offset = zoneOffset(now, timeZone) / 60_000;
  const sign = offset < 0 ? "−" : "+";
  const abs = Math.abs(offset);
  return {
    timeZone,
    offset: `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`,
    today: localDate(now, timeZone),
    weekStarts: localDate(localWeek(now, timeZone).from, timeZone),
  };
}

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request, "settings:write");
  const now = Date.now();
  return { zone: describeZone(await orgTimeZone(getDb()), now), zones: ["UTC", ...Intl.supportedValuesOf("timeZone")] };
}

type ActionResult = { ok: true; intent: "timezone"; timeZone: string; changed: boolean } | FormFailure;

export async function action({ request }: ActionFunctionArgs) {
  const who = await requireUser(request, "settings:write");
  const form = await readForm(request);
  try {
    const r = await setOrgTimeZone(getDb(), { timeZone: form.get("timeZone") ?? "" }, who.actor);
    return data<ActionResult>({ ok: true, intent: "timezone", timeZone: r.timeZone, changed: r.previous !== r.timeZone });
  } catch (e) {
    return formFailure(e, "timezone");
  }
}

export default function Settings() {
  const { zone, zones } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  return (
    <div className="space-y-6">
      <PageHeader title="Settings" description="Settings for the whole organisation." />
      {result?.ok ? (
        <FormMessage tone="success">
          {result.changed ? `The organisation's time zone is now ${result.timeZone}.` : `The time zone was already ${result.timeZone}.`}
        </FormMessage>
      ) : null}
      {result && !result.ok ? <FormMessage tone="error">{result.message}</FormMessage> : null}
      <Section
        title="Time zone"
        id="time-zone"
        description="The team page counts reviews “today” and “this week” in this zone, and reports count their days and weeks (from Monday) in it."
      >
        <p className="mb-4 text-sm text-slate-700">
          Now: <strong data-testid="org-timezone">{zone.timeZone}</strong> ({zone.offset}): today is {zone.today}, this week began on Monday {zone.weekStarts}.
        </p>
        <Form method="post" className="flex flex-wrap items-start gap-3" noValidate>
          <FormField
            id="org-timezone-input"
            label="Organisation time zone"
            hint="An IANA name such as Europe/Berlin, America/New_York or UTC."
            errors={result && !result.ok ? issueAt(result.issues, "timeZone") : undefined}
            className="min-w-[18rem]"
          >
            <input name="timeZone" type="text" list="time-zones" defaultValue={zone.timeZone} autoComplete="off" required className={inputClass} />
          </FormField>
          <datalist id="time-zones">
            {zones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
          <PrimaryButton type="submit" disabled={busy} className="mt-6">
            Save time zone
          </PrimaryButton>
        </Form>
      </Section>
    </div>
  );
}
