// Versions shared by the server, the daemon and the clients.
export const VERSION = '0.1.0';
// The Engine API version berthd speaks, and the oldest it still serves.
export const API_VERSION = '1.51';
export const MIN_API_VERSION = '1.24';
