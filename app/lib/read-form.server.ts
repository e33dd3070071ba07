import { invariantResponse } from "./invariant";

/**
 * The posted form of a page action. `request.formData()` throws on a body that
 * is not a form (another Content-Type, a broken multipart body); that is the
 * sender's mistake, so it answers 400 instead of surfacing as a 500.
 */
export async function readForm(request: Request): Promise<FormData> {
  try {
    return await request.formData();
  } catch {
    invariantResponse(false, "The request body is not a form: send application/x-www-form-urlencoded or multipart/form-data.");
  }
}
