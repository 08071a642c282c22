import SentryEngine
import SentryStore

extension AlertStore {
    /// The engine over this store: tests change alerts the way the product does, through the engine.
    var engine: AlertEngine { AlertEngine(store: self) }
}
