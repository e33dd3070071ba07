/**
 * The Content-Security-Policy nonce of the page being rendered on the server,
 * for the scripts Remix writes into it (root.tsx). On the client it is empty:
 * browsers hide nonces from scripts, and hydration does not re-check them.
 */
import { createContext, useContext } from "react";

export const NonceContext = createContext<string | undefined>(undefined);

export const useNonce = () => useContext(NonceContext);
