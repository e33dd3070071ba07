import { invariantResponse } from "./invariant";
import { NUL, NUL_MESSAGE, showNul } from "./json";

/**
 * The posted form of a page action. `request.formData()` throws on a body that
 * is not a form (another Content-Type, a broken multipart body); that is the
 * sender's mistake, so it answers 400 instead of surfacing as a 500. A field
 * whose name or text holds a NUL is refused the same way (see NUL in json.ts):
 * no page's form can send one.
 */
export async function readForm(request: Request): Promise<FormData> {
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    invariantResponse(false, "The request body is not a form: send application/x-www-form-urlencoded or multipart/form-data.");
  }
  for (const [name, value] of form) {
    const ok = !name.includes(NUL) && !(typeof value === "string" && value.includes(NUL));
    invariantResponse(ok, () => `The form field "${showNul(name)}" ${NUL_MESSAGE}.`);
  }
  return form;
}
