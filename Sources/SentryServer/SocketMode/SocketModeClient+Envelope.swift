import Foundation
import Logging
import SentryConnectors
import SentryCore
import WSClient

extension SocketModeClient {
    /// Answers one envelope through the shared handler and acks it: with the answer when it is ready within the
    /// ack deadline and small enough, else bare, the answer following through `response_url`.
    func deliver(_ envelope: SocketModeEnvelope, arrived: ContinuousClock.Instant, outbound: WebSocketOutboundWriter) async {
        let type = envelope.kind.rawValue
        if let eventID = envelope.eventID, await !deduplicator.claim(eventID) {
            await send(envelope.ack(payload: nil), for: envelope, arrived: arrived, outbound: outbound)
            metrics.socketEnvelope(type: type, outcome: "duplicate")
            return
        }
        guard let callback = envelope.callback else {
            logger.notice("socket mode envelope without a usable payload", metadata: ["socket.envelope_type": "\(type)"])
            await send(envelope.ack(payload: nil), for: envelope, arrived: arrived, outbound: outbound)
            metrics.socketEnvelope(type: type, outcome: "malformed")
            return
        }
        let acked = Locked(false)
        let deadline = settings.ackDeadline
        let timer = Task {
            try await Task.sleep(for: deadline)
            guard Self.claim(acked) else { return }
            await self.send(envelope.ack(payload: nil), for: envelope, arrived: arrived, outbound: outbound)
        }
        let answer: SlackAnswer
        do {
            answer = try await answerer.answer(callback)
        } catch {
            timer.cancel()
            // As an HTTP 500: no ack, so Slack delivers the event again; the retry must not count as a duplicate.
            if let eventID = envelope.eventID { await deduplicator.release(eventID) }
            logger.error("socket mode envelope failed", metadata: ["socket.envelope_type": "\(type)", "error": "\(error)"])
            metrics.socketEnvelope(type: type, outcome: "failed")
            return
        }
        timer.cancel()
        guard answer.status == .ok else {
            // Bolt's rule for a non-200 HTTP answer: no ack (Slack then retries an event, or shows the user an error).
            if let eventID = envelope.eventID { await deduplicator.release(eventID) }
            logger.notice("socket mode envelope refused", metadata: ["socket.envelope_type": "\(type)", "http.status": "\(answer.status.code)"])
            metrics.socketEnvelope(type: type, outcome: "refused")
            return
        }
        let payload = answer.payload
        guard Self.claim(acked) else {
            metrics.socketEnvelope(type: type, outcome: "late")
            await followUp(payload, callback, why: "answered after the ack deadline")
            return
        }
        let frame = envelope.ack(payload: payload)
        if frame.utf8.count < settings.maxAckBytes {
            await send(frame, for: envelope, arrived: arrived, outbound: outbound)
            metrics.socketEnvelope(type: type, outcome: "acked")
        } else {
            await send(envelope.ack(payload: nil), for: envelope, arrived: arrived, outbound: outbound)
            metrics.socketEnvelope(type: type, outcome: "oversized")
            await followUp(payload, callback, why: "\(frame.utf8.count) bytes, too large for an ack")
        }
    }

    static func claim(_ flag: Locked<Bool>) -> Bool {
        flag.withLock { taken in
            defer { taken = true }
            return !taken
        }
    }

    /// One text frame, never split: Slack is not known to reassemble continuation frames.
    func send(_ frame: String, for envelope: SocketModeEnvelope, arrived: ContinuousClock.Instant, outbound: WebSocketOutboundWriter) async {
        do {
            try await outbound.write(.text(frame))
            metrics.socketAcked(after: ContinuousClock.now - arrived)
        } catch {
            logger.notice(
                "socket mode ack not written; Slack will deliver again",
                metadata: ["socket.envelope_type": "\(envelope.kind.rawValue)", "error": "\(error)"])
        }
    }

    /// An answer the ack could not carry, sent where the HTTP path would send a slow one: the `response_url`.
    func followUp(_ payload: JSONValue?, _ callback: SlackCallback, why: String) async {
        guard let payload else { return }
        guard let url = callback.responseURL else {
            logger.warning(
                "socket mode answer dropped: \(why), and the callback has no response_url", metadata: ["slack.kind": "\(callback.kind.rawValue)"])
            return
        }
        let type: SlackResponseType = payload["response_type"]?.stringValue == SlackResponseType.inChannel.rawValue ? .inChannel : .ephemeral
        do {
            try await slack.respond(
                to: url, text: payload["text"]?.stringValue ?? "", blocks: payload["blocks"], responseType: type,
                replaceOriginal: payload["replace_original"]?.boolValue ?? false)
            logger.info("socket mode answer sent through response_url", metadata: ["slack.kind": "\(callback.kind.rawValue)", "reason": "\(why)"])
        } catch {
            logger.warning("socket mode answer could not go through response_url", metadata: ["error": "\(error)"])
        }
    }
}
