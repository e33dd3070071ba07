/**
 * Buttons and keyboard hints: the one set of button styles the app uses.
 */
import { forwardRef, type ButtonHTMLAttributes, type ReactNode } from "react";

export type ButtonVariant = "primary" | "secondary" | "danger" | "ghost" | "success";

const VARIANTS: Record<ButtonVariant, string> = {
  primary: "bg-indigo-600 text-white hover:bg-indigo-700 border-transparent",
  success: "bg-emerald-700 text-white hover:bg-emerald-800 border-transparent",
  danger: "bg-white text-red-700 border-red-300 hover:bg-red-50",
  secondary: "bg-white text-slate-700 border-slate-300 hover:bg-slate-50",
  ghost: "bg-transparent text-slate-600 border-transparent hover:bg-slate-100",
};

export function buttonClass(variant: ButtonVariant = "secondary", size: "sm" | "md" = "md"): string {
  const pad = size === "sm" ? "px-2 py-1 text-xs" : "px-3 py-1.5 text-sm";
  return `inline-flex items-center justify-center gap-2 rounded-md border font-medium shadow-sm transition-colors disabled:cursor-not-allowed disabled:opacity-50 ${pad} ${VARIANTS[variant]}`;
}

export const Button = forwardRef<HTMLButtonElement, ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant; size?: "sm" | "md" }>(function Button(
  { variant = "secondary", size = "md", className = "", type = "button", ...rest },
  ref,
) {
  return <button ref={ref} type={type} className={`${buttonClass(variant, size)} ${className}`} {...rest} />;
});

/** A keyboard key, as shown in hints and the shortcut help. */
export function Kbd({ children, className = "" }: { children: ReactNode; className?: string }) {
  return (
    <kbd
      className={`inline-flex min-w-[1.25rem] items-center justify-center rounded border border-current/30 bg-black/5 px-1 font-mono text-[11px] leading-4 ${className}`}
    >
      {children}
    </kbd>
  );
}
