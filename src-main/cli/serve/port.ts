/** The port `bulwark serve` listens on by default (127.0.0.1 only). */
export const DEFAULT_PORT = 8737;
