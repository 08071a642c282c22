import SentryCore

/// Events on their way to the rules, kept in (time, id) order: the first `released` of them are handed on and wait
/// only for a full batch, the rest for their time. Files are nearly in order, so an event almost always goes at the
/// end (no copying around); the few that arrive early are inserted where they belong among those still waiting.
struct ReorderQueue {
    private var items: [SecurityEvent] = []
    private(set) var released = 0

    /// Whether `event` goes before the item at `index`; reads the item's time and id in place, not a copy of it.
    func precedes(_ event: SecurityEvent, _ index: Int) -> Bool {
        let at = items[index].at
        return event.at != at ? event.at < at : event.eventID < items[index].eventID
    }

    /// Events inserted, and waiting events moved aside to make room: far more moves than events mean a file far
    /// from in order (newest first), where each insert moves the whole queue.
    private(set) var inserted = 0
    private(set) var moved = 0
    var isThrashing: Bool { moved > 1_000_000 && moved > 64 * inserted }

    mutating func insert(_ event: consuming SecurityEvent) {
        inserted += 1
        if released == items.count || !precedes(event, items.count - 1) {
            items.append(event)
            return
        }
        var low = released
        var high = items.count
        while low < high {
            let mid = (low + high) / 2
            if precedes(event, mid) { high = mid } else { low = mid + 1 }
        }
        moved += items.count - low
        items.insert(event, at: low)
    }

    /// Hands on the waiting events older than `time`; whether there were any.
    mutating func release(before time: Double) -> Bool {
        let start = released
        while released < items.count, items[released].at.timeIntervalSince1970 < time { released += 1 }
        return released > start
    }

    mutating func releaseAll() {
        released = items.count
    }

    /// The time and id of the last event handed on (there must be one).
    var lastReleasedAt: Double { items[released - 1].at.timeIntervalSince1970 }
    var lastReleasedID: EventID { items[released - 1].eventID }

    /// The events handed on, for the rules (read in place).
    var releasedEvents: ArraySlice<SecurityEvent> { items[..<released] }

    mutating func dropReleased() {
        items.removeFirst(released)
        released = 0
    }
}
