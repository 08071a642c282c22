/// The Block Kit rules Slack enforces that a renderer could break, measured as Slack measures them (Unicode
/// scalars, see `BlockKitText`). The Slack simulator refuses what this refuses, and the renderers' tests hold
/// every message kind to it.
public enum BlockKitCheck {
    /// Slack's documented limits, in scalars.
    public enum Limit {
        public static let blocksPerMessage = 50
        public static let blocksPerView = 100
        public static let messageText = 40_000
        public static let headerText = 150
        public static let sectionText = 3_000
        public static let sectionFields = 10
        public static let fieldText = 2_000
        public static let contextElements = 10
        public static let contextText = 2_000
        public static let actionsElements = 25
        public static let buttonText = 75
        public static let buttonValue = 2_000
        public static let buttonURL = 3_000
        public static let actionID = 255
        public static let blockID = 255
        public static let inputLabel = 2_000
        public static let inputHint = 2_000
        public static let inputMaxLength = 3_000
        public static let viewTitle = 24
        public static let viewButton = 24
        public static let privateMetadata = 3_000
        public static let callbackID = 255
    }

    /// The first rule a message's `text` and `blocks` break, or nil.
    public static func messageProblem(text: String?, blocks: JSONValue?) -> String? {
        if let text, BlockKitText.length(text) > Limit.messageText { return "text over \(Limit.messageText)" }
        return problem(blocks, maxBlocks: Limit.blocksPerMessage)
    }

    /// The first rule a modal view breaks, or nil.
    /// An App Home view: type `home`, at most 100 blocks, each within its limits.
    public static func homeProblem(_ view: JSONValue) -> String? {
        guard view["type"]?.stringValue == "home" else { return "view type must be home" }
        if let metadata = view["private_metadata"]?.stringValue, BlockKitText.length(metadata) > Limit.privateMetadata {
            return "private_metadata over \(Limit.privateMetadata)"
        }
        guard view["blocks"]?.arrayValue != nil else { return "view has no blocks" }
        return problem(view["blocks"], maxBlocks: Limit.blocksPerView)
    }

    public static func viewProblem(_ view: JSONValue) -> String? {
        guard view["type"]?.stringValue == "modal" else { return "view type must be modal" }
        for key in ["title", "submit", "close"] {
            guard let object = view[key] else {
                if key == "title" { return "view has no title" }
                continue
            }
            guard object["type"]?.stringValue == "plain_text", let text = object["text"]?.stringValue, !text.isEmpty else {
                return "view \(key) needs plain_text"
            }
            let limit = key == "title" ? Limit.viewTitle : Limit.viewButton
            if BlockKitText.length(text) > limit { return "view \(key) over \(limit)" }
        }
        if let metadata = view["private_metadata"]?.stringValue, BlockKitText.length(metadata) > Limit.privateMetadata {
            return "private_metadata over \(Limit.privateMetadata)"
        }
        if let callback = view["callback_id"]?.stringValue, BlockKitText.length(callback) > Limit.callbackID {
            return "callback_id over \(Limit.callbackID)"
        }
        guard view["blocks"]?.arrayValue != nil else { return "view has no blocks" }
        return problem(view["blocks"], maxBlocks: Limit.blocksPerView)
    }

    /// The first rule a list of blocks breaks, or nil.
    public static func problem(_ blocks: JSONValue?, maxBlocks: Int = Limit.blocksPerMessage) -> String? {
        guard let blocks else { return nil }
        guard let list = blocks.arrayValue else { return "blocks must be an array" }
        if list.count > maxBlocks { return "more than \(maxBlocks) blocks" }
        for (index, block) in list.enumerated() {
            if let problem = blockProblem(block, index: index) { return problem }
        }
        return nil
    }

    static func over(_ value: JSONValue?, _ limit: Int) -> Bool {
        BlockKitText.length(value?.stringValue ?? "") > limit
    }

    static func blockProblem(_ block: JSONValue, index: Int) -> String? {
        guard let type = block["type"]?.stringValue else { return "block \(index) has no type" }
        if over(block["block_id"], Limit.blockID) { return "block_id of block \(index) over \(Limit.blockID)" }
        switch type {
        case "header":
            guard block["text"]?["type"]?.stringValue == "plain_text", let text = block["text"]?["text"]?.stringValue,
                BlockKitText.length(text) <= Limit.headerText
            else {
                return "header \(index) needs plain_text of at most \(Limit.headerText) characters"
            }
        case "section":
            if over(block["text"]?["text"], Limit.sectionText) { return "section \(index) text over \(Limit.sectionText)" }
            if let fields = block["fields"]?.arrayValue {
                if fields.count > Limit.sectionFields { return "section \(index) has more than \(Limit.sectionFields) fields" }
                if fields.contains(where: { over($0["text"], Limit.fieldText) }) { return "section \(index) field over \(Limit.fieldText)" }
            }
            if block["text"] == nil && block["fields"] == nil { return "section \(index) has neither text nor fields" }
        case "actions":
            guard let elements = block["elements"]?.arrayValue, !elements.isEmpty, elements.count <= Limit.actionsElements else {
                return "actions \(index) needs 1 to \(Limit.actionsElements) elements"
            }
            for element in elements {
                guard let actionID = element["action_id"]?.stringValue, BlockKitText.length(actionID) <= Limit.actionID else {
                    return "button without action_id"
                }
                if over(element["text"]?["text"], Limit.buttonText) { return "button text over \(Limit.buttonText)" }
                if over(element["value"], Limit.buttonValue) { return "button value over \(Limit.buttonValue)" }
                if over(element["url"], Limit.buttonURL) { return "button url over \(Limit.buttonURL)" }
            }
            let ids = elements.compactMap { $0["action_id"]?.stringValue }
            if Set(ids).count != ids.count { return "duplicate action_id in block \(index)" }
        case "context":
            guard let elements = block["elements"]?.arrayValue, !elements.isEmpty, elements.count <= Limit.contextElements else {
                return "context \(index) needs 1 to \(Limit.contextElements) elements"
            }
            if elements.contains(where: { over($0["text"], Limit.contextText) }) { return "context \(index) text over \(Limit.contextText)" }
        case "input":
            guard block["label"]?["type"]?.stringValue == "plain_text", !over(block["label"]?["text"], Limit.inputLabel) else {
                return "input \(index) needs a plain_text label of at most \(Limit.inputLabel)"
            }
            if over(block["hint"]?["text"], Limit.inputHint) { return "input \(index) hint over \(Limit.inputHint)" }
            guard let element = block["element"], element["type"]?.stringValue != nil else { return "input \(index) has no element" }
            if over(element["action_id"], Limit.actionID) { return "input \(index) action_id over \(Limit.actionID)" }
            if let max = element["max_length"]?.numberValue.map { Int($0) }, !(1...Limit.inputMaxLength).contains(max) {
                return "input \(index) max_length out of 1…\(Limit.inputMaxLength)"
            }
            if let initial = element["initial_value"]?.stringValue, let max = element["max_length"]?.numberValue.map { Int($0) },
                BlockKitText.length(initial) > max
            {
                return "input \(index) initial_value longer than max_length"
            }
        case "divider", "image", "rich_text":
            break
        default:
            return "unknown block type \(type)"
        }
        return nil
    }
}
