package realtime

// UsePocketBaseBroadcaster leaves ticket and answer events to PocketBase's
// own broadcaster while on (benchmarks compare the two).
func UsePocketBaseBroadcaster(on bool) { pocketBaseBroadcasts.Store(on) }
