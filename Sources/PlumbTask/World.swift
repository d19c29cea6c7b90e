// The fictional world that the task is about: towns with facts (a small knowledge base that the base
// corpus states and the look-up prompts ask about) and a list of common nouns for word and list
// operations. The world is fixed (built from a constant seed), so every `--seed` asks about the same
// facts and the oracle can judge any response without reading the generated files.

/// The attributes a look-up prompt can ask about.
public enum TownAttribute: String, CaseIterable, Codable, Sendable {
    case river, crop, color, founder
}

public struct Town: Hashable, Sendable {
    public let name: String
    public let river: String
    public let crop: String
    public let color: String
    public let founder: String

    public func value(_ attribute: TownAttribute) -> String {
        switch attribute {
        case .river: return river
        case .crop: return crop
        case .color: return color
        case .founder: return founder
        }
    }
}

/// Which prompts may name an entity: training prompts name training entities only, validation
/// prompts validation ones, evaluation prompts held-out ones (or use a held-out wording).
public enum EntitySplit: String, Sendable, CaseIterable {
    case training, validation, evaluation
}

public struct World: Sendable {
    public let towns: [Town]
    /// Towns whose look-ups appear only in evaluation prompts (their facts are in the base corpus).
    public let heldOutTownNames: Set<String>
    /// Towns whose look-ups appear only in validation prompts (`prompts-validate.jsonl`): neither
    /// training nor evaluation names them, so a policy's choice on them measures generalisation.
    public let validationTownNames: Set<String>
    /// Nouns for letter counts and list operations; some appear only in evaluation prompts, some only
    /// in validation prompts.
    public let nouns: [String]
    public let heldOutNouns: Set<String>
    public let validationNouns: Set<String>

    public static let rivers = ["Ashwater", "Brennel", "Coldrun", "Dimmet", "Elvane", "Fallow", "Greywash", "Hollin", "Iskar", "Juneby"]
    public static let crops = ["barley", "oats", "rye", "millet", "turnips", "beets", "cabbages", "pumpkins", "hops", "flax"]
    public static let colors = ["red", "blue", "green", "yellow", "white", "black", "orange", "purple"]
    public static let founders = ["Alda", "Borin", "Cassia", "Dorran", "Elsbeth", "Fenwick", "Garrick", "Hesper", "Ivo", "Jessamy",
                                  "Kell", "Lunet", "Marek", "Nessa", "Oswin", "Perrin", "Quilla", "Rowan", "Sabine", "Tobin"]
    static let townNames = ["Brindle", "Calloway", "Dunmore", "Elmstead", "Fairhollow", "Greymarsh", "Hadley", "Ivybridge",
                            "Juniper", "Kestrel", "Larkfield", "Millbrook", "Northam", "Oakhurst", "Pendle", "Quarrow",
                            "Redwick", "Stonebury", "Thornbury", "Umber", "Valewood", "Westmere", "Yarrow", "Zelby",
                            "Ashford", "Birchley", "Coldharbor", "Dovecote", "Eastwick", "Foxley", "Glenmoor", "Hawthorn",
                            "Inchbury", "Jessop", "Kingsley", "Lowther", "Marlow", "Nettlebed", "Orchard", "Pinewood",
                            "Rookley", "Saltash", "Tidewell", "Upton", "Wexham", "Yeldham", "Ambry", "Brackwater"]
    /// Drawn after the others, so adding them left every other town's facts as they were.
    static let validationTownList = ["Fernhill", "Gildham", "Harrowgate", "Mossley"]
    static let nounList = ["cat", "dog", "horse", "goat", "sheep", "mouse", "owl", "fox", "wolf", "bear",
                           "frog", "duck", "hen", "crow", "deer", "seal", "whale", "crab", "bee", "ant",
                           "lamp", "chair", "table", "spoon", "cup", "plate", "door", "window", "rope", "boat",
                           "cart", "wheel", "hammer", "needle", "basket", "bottle", "candle", "mirror", "pillow", "blanket",
                           "ladder", "bucket", "kettle", "drum", "flute", "bell", "coin", "ring", "book", "pen",
                           "paper", "shoe", "hat", "coat", "glove", "sock", "brush", "comb", "key", "box"]
    static let validationNounList = ["cloak", "barrel", "lantern", "saddle"]
    static let heldOutTownCount = 8
    static let heldOutNounCount = 8
    /// The constant seed that lays out the world's facts; changing it changes the world, not the samples.
    static let worldSeed: UInt64 = 0x504C_554D_424C_494E // "PLUMBLIN"

    /// The one world every generator and the oracle use.
    public static let standard = World()

    private init() {
        var rng = TaskRandom(seed: World.worldSeed)
        towns = (World.townNames + World.validationTownList).map { name in
            Town(name: name, river: rng.pick(World.rivers), crop: rng.pick(World.crops),
                 color: rng.pick(World.colors), founder: rng.pick(World.founders))
        }
        heldOutTownNames = Set(World.townNames.suffix(World.heldOutTownCount))
        validationTownNames = Set(World.validationTownList)
        nouns = World.nounList + World.validationNounList
        heldOutNouns = Set(World.nounList.suffix(World.heldOutNounCount))
        validationNouns = Set(World.validationNounList)
    }

    public func split(ofTown name: String) -> EntitySplit {
        heldOutTownNames.contains(name) ? .evaluation : validationTownNames.contains(name) ? .validation : .training
    }

    public func split(ofNoun noun: String) -> EntitySplit {
        heldOutNouns.contains(noun) ? .evaluation : validationNouns.contains(noun) ? .validation : .training
    }

    public func towns(_ split: EntitySplit) -> [Town] { towns.filter { self.split(ofTown: $0.name) == split } }
    public func nouns(_ split: EntitySplit) -> [String] { nouns.filter { self.split(ofNoun: $0) == split } }
    public var trainingTowns: [Town] { towns(.training) }
    public var heldOutTowns: [Town] { towns(.evaluation) }
    public var trainingNouns: [String] { nouns(.training) }

    /// The town called `name` (case-insensitive), if the world has one.
    public func town(named name: String) -> Town? {
        towns.first { $0.name.lowercased() == name.lowercased() }
    }

    /// Every value an attribute can take, lower-cased (for reading answers back out of responses).
    public static func values(of attribute: TownAttribute) -> Set<String> {
        let list: [String]
        switch attribute {
        case .river: list = rivers
        case .crop: list = crops
        case .color: list = colors
        case .founder: list = founders
        }
        return Set(list.map { $0.lowercased() })
    }
}
