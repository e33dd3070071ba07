import { AppError } from "./errors";

/**
 * The posted form of a page action. `request.formData()` throws on a body that
 * is not a form (another Content-Type, a broken multipart body); that is the
 * sender's mistake, so it answers 400 instead of surfacing as a 500.
 */
export async function readForm(request: Request): Promise<FormData> {
  try {
    return await request.formData();
  } catch {
    const e = new AppError("invalid", "The request body is not a form: send application/x-www-form-urlencoded or multipart/form-data.");
    throw new Response(e.message, { status: e.status, statusText: "Bad Request" });
  }
}
