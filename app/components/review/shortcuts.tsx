/**
 * Keyboard shortcuts of the review screen and their help dialog.
 */
import { Dialog } from "../ui/dialog";
import { Kbd } from "../ui/button";

export const SHORTCUTS: { keys: string[]; label: string }[] = [
  { keys: ["a"], label: "Approve: keep the model output" },
  { keys: ["c"], label: "Correct: review the diff, choose reason codes, submit" },
  { keys: ["r"], label: "Reject (reason code required)" },
  { keys: ["e"], label: "Escalate to the type owner (reason and note)" },
  { keys: ["s"], label: "Skip: hand the task back and load the next" },
  { keys: ["j", "k"], label: "Next / previous field" },
  { keys: ["Enter"], label: "Edit the selected field" },
  { keys: ["Esc"], label: "Stop editing (back to the field)" },
  { keys: ["1", "…", "9"], label: "In a dialog: toggle reason code 1–9" },
  { keys: ["Enter"], label: "In a dialog: submit (Ctrl+Enter from the note)" },
  { keys: ["?"], label: "Show this help" },
];

export function ShortcutHelp({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="Keyboard shortcuts" description="The whole review works without a mouse.">
      <table className="w-full text-sm">
        <tbody className="divide-y divide-slate-100">
          {SHORTCUTS.map((s, i) => (
            <tr key={i}>
              <td className="whitespace-nowrap py-1.5 pr-4">
                {s.keys.map((k, j) => (
                  <Kbd key={j} className="mr-1">
                    {k}
                  </Kbd>
                ))}
              </td>
              <td className="py-1.5 text-slate-700">{s.label}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}
