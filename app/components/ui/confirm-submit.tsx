/**
 * A destructive submit that asks first, inline: the first click turns the
 * button into "Confirm …" plus "Cancel"; only the confirm button submits.
 * No modal, so it works in dense tables and with the keyboard alone.
 */
import { useEffect, useRef, useState } from "react";

export function ConfirmSubmit({
  label,
  confirmLabel,
  name,
  value,
  disabled,
}: {
  label: string;
  confirmLabel: string;
  name?: string;
  value?: string;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button
        type="button"
        disabled={disabled}
        onClick={() => setAsking(true)}
        className="rounded-md px-2 py-1 text-sm font-medium text-red-700 hover:bg-red-50 disabled:opacity-50"
      >
        {label}
      </button>
    );
  }
  return (
    <span className="inline-flex items-center gap-1">
      <button
        ref={confirmRef}
        type="submit"
        name={name}
        value={value}
        className="rounded-md bg-red-600 px-2 py-1 text-sm font-medium text-white hover:bg-red-700"
      >
        {confirmLabel}
      </button>
      <button type="button" onClick={() => setAsking(false)} className="rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-100">
        Cancel
      </button>
    </span>
  );
}
