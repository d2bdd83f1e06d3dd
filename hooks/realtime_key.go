package hooks

// realtimeStoreKey holds the app's realtime sender in its store (set by
// bindRealtime) for the announcers outside it.
const realtimeStoreKey = slaRealtimeKey
