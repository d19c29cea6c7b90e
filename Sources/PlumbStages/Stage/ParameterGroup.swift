// An option group: parameters that several stage kinds share (how the model starts, the
// optimisation, the distributed run). A stage embeds a group as one property of its `Parameters`;
// the group's properties are the stage's own keys (the file key and the flag are `lr`, not
// `optimisation.lr`: ParameterKeys), while the parameters' JSON (the manifest's config, the cache
// key) nests the group under the property's name. An option added to a group reaches every stage
// that embeds it. A group's property names must differ from the stage's and from other groups'.
import Foundation

public protocol ParameterGroup: Codable, Sendable {}
