/**
 * A JSON column value already serialised by the caller (ingest has the text anyway,
 * for the body hash): written as is instead of being stringified again, on both stores.
 */
export class JsonText {
  constructor(readonly text: string) {}
  /** Serialised anywhere else, it stands for its value. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/** Declares `text` (valid JSON) as the value of a JSON column of type T. */
export function jsonText<T>(text: string): T {
  return new JsonText(text) as unknown as T;
}
