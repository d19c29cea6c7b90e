// Admission for continuous batching: which waiting sample takes each free cache slot, and how it gets
// its prompt's keys and values without a second prefill.
//   - A request is prefilled once, into the first free slot it is given (one prompt per
//     IncrementalForward call), and the logits of its last position are kept until its last sample
//     is admitted: every sample draws its first token from them with its own RNG.
//   - Its other samples take free slots then or later; each gets the prompt's cache rows (positions
//     0..<promptLength, every layer) copied from the request's prompt slot.
//   - A slot keeps its prompt rows while its sequence decodes and after it finishes (decoding writes
//     positions >= promptLength only), until the slot goes to another request. So the prompt slot of
//     a request with waiting samples, once freed, goes to that request's next sample first (no copy),
//     and it stays held by one of the request's samples while any of them waits.
// Free slots go to waiting requests in request order, then to new requests in request order.
// Admission decides when a sample starts, never what it generates: its first token comes from the
// prompt's one prefill, its cache rows are exact copies, its RNG is a function of (seed, sample).
import PlumbTensor

/// A request whose prompt has been through the model, with samples still to admit.
struct PrefilledRequest {
    let request: Int
    /// The next sample to admit; the request is done when it reaches the request's sample count.
    var nextSample = 0
    /// A slot holding the prompt's cache rows: the prefill's slot.
    let promptSlot: Int
    /// (1, V): the logits of the prompt's last position.
    let logits: Tensor
}

/// The requests of one `stream` call not yet fully admitted.
final class AdmissionQueue {
    let requests: [GenerationRequest]
    /// The first request not yet prefilled.
    var nextRequest = 0
    /// Prefilled requests with samples still waiting, in request order.
    var waiting: [PrefilledRequest] = []

    init(requests: [GenerationRequest]) { self.requests = requests }

    var isEmpty: Bool { nextRequest == requests.count && waiting.isEmpty }
}

extension Generator {
    /// Gives the free slots to waiting samples (see the file's comment). Returns the prefill calls made.
    func admit(_ queue: AdmissionQueue, state: inout DecodeBatch, engine: IncrementalForward, options: GenerationOptions) throws -> Int {
        var free = state.freeSlots
        try admitWaiting(queue, free: &free, state: &state, engine: engine, options: options)
        return try admitNew(queue, free: &free, state: &state, engine: engine, options: options)
    }

    /// Free slots to the samples of prefilled requests: first each request's own prompt slot, if
    /// freed (the rows are in place), then the others in request order (the prompt slots are now held).
    @inline(never)
    private func admitWaiting(_ queue: AdmissionQueue, free: inout [Int], state: inout DecodeBatch, engine: IncrementalForward,
                              options: GenerationOptions) throws {
        let requests = queue.requests
        for w in queue.waiting.indices {
            if let at = free.firstIndex(of: queue.waiting[w].promptSlot) {
                let slot = free.remove(at: at)
                try admitSample(of: &queue.waiting[w], slot: slot, requests, state: &state, engine: engine, options: options)
            }
        }
        for w in queue.waiting.indices {
            while queue.waiting[w].nextSample < requests[queue.waiting[w].request].samples, !free.isEmpty {
                let slot = free.removeFirst()
                try admitSample(of: &queue.waiting[w], slot: slot, requests, state: &state, engine: engine, options: options)
            }
        }
        queue.waiting.removeAll { $0.nextSample == requests[$0.request].samples }
    }

    /// Free slots to new requests, in order, while a slot is free (`.wholeRequest`: while all k
    /// samples fit). Returns the prefill calls made.
    @inline(never)
    private func admitNew(_ queue: AdmissionQueue, free: inout [Int], state: inout DecodeBatch, engine: IncrementalForward,
                          options: GenerationOptions) throws -> Int {
        var calls = 0
        while try admitNextRequest(queue, free: &free, state: &state, engine: engine, options: options) { calls += 1 }
        return calls
    }

    /// Prefills the next request into a free slot and gives its samples the free slots there are;
    /// false when no request or no slot is left (or, `.wholeRequest`, too few slots for its samples).
    @inline(never)
    private func admitNextRequest(_ queue: AdmissionQueue, free: inout [Int], state: inout DecodeBatch, engine: IncrementalForward,
                                  options: GenerationOptions) throws -> Bool {
        let requests = queue.requests
        guard queue.nextRequest < requests.count, !free.isEmpty else { return false }
        let r = queue.nextRequest, request = requests[r]
        if admission == .wholeRequest && request.samples > free.count { return false }
        let promptSlot = free.removeFirst()
        var prefilled = PrefilledRequest(request: r, promptSlot: promptSlot, logits: try prefill(request.prompt, slot: promptSlot, engine: engine))
        queue.nextRequest += 1
        try admitSample(of: &prefilled, slot: promptSlot, requests, state: &state, engine: engine, options: options)
        while prefilled.nextSample < request.samples, !free.isEmpty {
            try admitSample(of: &prefilled, slot: free.removeFirst(), requests, state: &state, engine: engine, options: options)
        }
        if prefilled.nextSample < request.samples { queue.waiting.append(prefilled) }
        return true
    }

    /// Runs `prompt` through the model into `slot`'s cache positions 0..<count; returns the last
    /// position's logits (1, V). One prompt per call: its rows go through the same products whatever
    /// else is waiting (more than 64 rows take the sgemm path, whose rounding depends on the row
    /// count), so its samples do not depend on which prompts were admitted with it.
    private func prefill(_ prompt: [Int32], slot: Int, engine: IncrementalForward) throws -> Tensor {
        let logits = Tensor(zeros: [1, config.vocabSize])
        try engine.forward(tokens: prompt, slots: [Int](repeating: slot, count: prompt.count), positions: (0..<prompt.count).map(Int32.init),
                           logitRows: [prompt.count - 1], logits: logits)
        return logits
    }

    /// Places the next sample of `prefilled` in the free `slot`: the prompt's cache rows are copied
    /// there (nothing to copy in the prompt slot itself) and the sample draws its first token.
    private func admitSample(of prefilled: inout PrefilledRequest, slot: Int, _ requests: [GenerationRequest], state: inout DecodeBatch,
                             engine: IncrementalForward, options: GenerationOptions) throws {
        let request = requests[prefilled.request]
        try engine.cache.copyPrefix(from: prefilled.promptSlot, to: slot, length: request.prompt.count)
        withExtendedLifetime(prefilled.logits) {
            state.admit(slot: slot, request: prefilled.request, sample: prefilled.nextSample, seed: request.seed,
                        promptLength: request.prompt.count, logits: prefilled.logits.pointer, options: options, capacity: capacity)
        }
        prefilled.nextSample += 1
    }
}
