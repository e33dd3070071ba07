import { AppError } from "~/lib/errors";
import { json } from "~/lib/http.server";

const notFound = ({ request }: { request: Request }) =>
  json(new AppError("not_found", `No API route ${request.method} ${new URL(request.url).pathname}`).toJSON(), 404);

export const loader = notFound;
export const action = notFound;
