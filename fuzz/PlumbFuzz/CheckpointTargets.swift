// Targets over PlumbModel's checkpoint headers: safetensors and llama2.c.
import Foundation
import PlumbModel

enum CheckpointTargets {
    static func safetensors(_ input: UnsafeRawBufferPointer) {
        _ = try? SafeTensors.decode(Data(input), source: "fuzz.safetensors")
    }

    static func llama2c(_ input: UnsafeRawBufferPointer) {
        _ = try? Llama2cFormat.decode(Data(input), source: "fuzz.bin")
    }
}
