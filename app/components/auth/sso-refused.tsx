/** What a person sees when single sign-on cannot sign them in: the reason, and the way back. */
export function SsoRefused({ message }: { message: string }) {
  return (
    <div className="mx-auto mt-16 max-w-md rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
      <h1 className="text-lg font-semibold">Single sign-on did not sign you in</h1>
      <p role="alert" className="mt-3 rounded bg-red-50 px-3 py-2 text-sm text-red-800">
        {message}
      </p>
      <a href="/login" className="mt-4 inline-block text-sm text-indigo-700 underline">
        Back to sign in
      </a>
    </div>
  );
}
