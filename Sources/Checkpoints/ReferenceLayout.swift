/// The PyTorch reference's conventions for state_dict keys, and what a ResNet generator's keys
/// and shapes say about its architecture.

/// The reference loader's clean-up of old state_dicts, done the same way here.
public enum ReferenceKeys {
  /// Strips DataParallel's `module.` prefix (when every key has it) and drops the running
  /// statistics (`running_mean`, `running_var`, `num_batches_tracked`) of instance norms, which
  /// files from before PyTorch 0.4 carry and the reference's loader discards. A norm is taken
  /// to be an instance norm when it has no `weight`: the reference's instance norms are not
  /// affine, while batch norms always are (their statistics are kept).
  ///
  /// Returns the entries that remain and the original keys that were dropped, sorted.
  public static func normalized<Value>(_ entries: [String: Value]) -> (
    entries: [String: Value], dropped: [String]
  ) {
    let prefix = "module."
    let stripPrefix = !entries.isEmpty && entries.keys.allSatisfy { $0.hasPrefix(prefix) }
    var renamed: [String: (original: String, value: Value)] = [:]
    for (key, value) in entries {
      renamed[stripPrefix ? String(key.dropFirst(prefix.count)) : key] = (key, value)
    }

    var kept: [String: Value] = [:]
    var dropped: [String] = []
    for (key, item) in renamed {
      let (module, leaf) = split(key)
      let isStatistic = ["running_mean", "running_var", "num_batches_tracked"].contains(leaf)
      if isStatistic, renamed[module.isEmpty ? "weight" : module + ".weight"] == nil {
        dropped.append(item.original)
      } else {
        kept[key] = item.value
      }
    }
    return (kept, dropped.sorted())
  }

  /// Orders keys as a state_dict lists them: numeric components by value, so that
  /// `model.10.…` comes after `model.9.…`, and within a module `weight` before `bias` before
  /// the statistics.
  public static func stateDictOrder(_ keys: some Sequence<String>) -> [String] {
    let leafRank = [
      "weight": 0, "bias": 1, "running_mean": 2, "running_var": 3,
      "num_batches_tracked": 4,
    ]
    func components(_ key: String) -> [String] { key.split(separator: ".").map(String.init) }
    return keys.sorted { left, right in
      let a = components(left)
      let b = components(right)
      for (index, (x, y)) in zip(a, b).enumerated() where x != y {
        let lastOfBoth = index == a.count - 1 && index == b.count - 1
        if lastOfBoth, let rankX = leafRank[x], let rankY = leafRank[y] { return rankX < rankY }
        switch (Int(x), Int(y)) {
        case (let i?, let j?): return i < j
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return x < y
        }
      }
      return a.count < b.count
    }
  }

  /// `("model.10.conv_block", "weight")` for `"model.10.conv_block.weight"`.
  static func split(_ key: String) -> (module: String, leaf: String) {
    guard let dot = key.lastIndex(of: ".") else { return ("", key) }
    return (String(key[..<dot]), String(key[key.index(after: dot)...]))
  }
}

/// The architecture of a ResNet generator in the reference's layout, as its state_dict shows it.
///
/// The reference's `model` Sequential: `1` the 7×7 stem conv `[ngf, inputChannels, 7, 7]`,
/// `4` and `7` the stride-2 convs down, `10…10+blocks-1` the residual blocks
/// (`conv_block.1` and `conv_block.5`, or `.6` when dropout sits between them), then the two up
/// stages and the 7×7 output conv `[outputChannels, ngf, 7, 7]`. An up stage is a transposed
/// conv (weight `[in, out, 3, 3]` = `[4·ngf, 2·ngf, 3, 3]`) or, in Transmute's
/// upsample-then-convolve variant, a conv (weight `[out, in, 3, 3]` = `[2·ngf, 4·ngf, 3, 3]`).
/// Convs carry a bias with instance norm and none with batch norm or no norm (as the reference),
/// except the output conv, which always has one; batch norms have `weight`, `bias` and running
/// statistics.
public struct ResnetGeneratorLayout: Equatable, Sendable {
  /// The normalisation layers, as told by which parameters exist.
  public enum Norm: String, Sendable {
    case instance
    case batch
    case none
  }

  /// How the two up stages double the resolution.
  public enum Upsampling: String, Sendable {
    /// `ConvTranspose2d(3, stride 2, padding 1, output padding 1)`, as the reference.
    case transposedConvolution
    /// Upsampling followed by a 3×3 convolution.
    case upsampleConvolution
  }

  public var blocks: Int
  public var ngf: Int
  public var inputChannels: Int
  public var outputChannels: Int
  public var dropout: Bool
  public var norm: Norm
  public var upsampling: Upsampling
  /// The `model.K` indices of the two up-stage convs and of the output conv.
  public var upIndices: [Int]
  public var outputIndex: Int

  /// Infers the architecture from state_dict shapes (already `ReferenceKeys.normalized`), then
  /// checks that the keys and shapes are exactly those of that architecture. Throws an
  /// `architectureMismatch` error listing each offending key with its shape.
  public init(inferringFrom shapes: [String: [Int]], path: String) throws(CheckpointError) {
    func mismatch(_ lines: [String]) -> CheckpointError {
      CheckpointError(
        .architectureMismatch, path: path,
        reason: "not a ResNet generator in the reference's layout: " + lines.joined(separator: "; ")
      )
    }
    func describe(_ key: String) -> String {
      shapes[key].map { "\(key) has shape \($0)" } ?? "\(key) is missing"
    }

    // Stem: ngf and the input channels.
    guard let stem = shapes["model.1.weight"], stem.count == 4, stem[2] == 7, stem[3] == 7,
      stem[0] > 0
    else {
      let found = ReferenceKeys.stateDictOrder(shapes.keys).prefix(3).map {
        "\($0) \(shapes[$0]!)"
      }
      // Name the networks whose keys are recognisable, as the reference's other checkpoints.
      var kind = ""
      if shapes.keys.contains(where: { $0.hasPrefix("model.model.") }) {
        kind =
          "; these are the keys of the reference's U-Net generator (unet_256, unet_128), which"
          + " Transmute does not import"
      } else if shapes["model.0.weight"].map({ $0.count == 4 && $0[2] == 4 }) == true
        || shapes.keys.contains(where: { $0.hasPrefix("net.") })
      {
        kind =
          "; these are the keys of a discriminator (the reference's net_D), which cannot"
          + " translate; import it named as the reference names it (latest_net_D_A.pth)"
      }
      throw mismatch([
        describe("model.1.weight") + ", expected [ngf, input channels, 7, 7] (the file starts"
          + " with \(found.isEmpty ? "no tensors" : found.joined(separator: ", ")))" + kind
      ])
    }
    let ngf = stem[0]

    // Residual blocks: contiguous indices from 10, the second conv's index telling dropout.
    var blockConvs: [Int: Set<Int>] = [:]
    var topLevelConvs: [Int: [Int]] = [:]
    for (key, shape) in shapes {
      let parts = key.split(separator: ".").map(String.init)
      guard parts.count >= 3, parts[0] == "model", let index = Int(parts[1]) else {
        throw mismatch(["\(key) (shape \(shape)) is not under model.N"])
      }
      if parts.count == 5, parts[2] == "conv_block", let inner = Int(parts[3]),
        parts[4] == "weight", shape.count == 4
      {
        blockConvs[index, default: []].insert(inner)
      } else if parts.count == 3, parts[2] == "weight", shape.count == 4 {
        topLevelConvs[index] = shape
      }
    }
    let blockIndices = blockConvs.keys.sorted()
    guard let firstBlock = blockIndices.first, firstBlock == 10,
      blockIndices == Array(10..<10 + blockIndices.count)
    else {
      throw mismatch([
        "residual blocks found at model.\(blockIndices), expected model.10, model.11, … in a row"
      ])
    }
    let blocks = blockIndices.count
    let innerLayouts = Set(blockIndices.map { blockConvs[$0]! })
    switch innerLayouts {
    case [[1, 5]]: self.dropout = false
    case [[1, 6]]: self.dropout = true
    default:
      let found = innerLayouts.map { $0.sorted() }.sorted { $0.lexicographicallyPrecedes($1) }
      throw mismatch([
        "residual block convs at conv_block.\(found), expected [1, 5] (no dropout) or [1, 6] "
          + "(dropout) in every block"
      ])
    }

    // Up stages and the output conv: the three convs after the blocks.
    let after = topLevelConvs.keys.filter { $0 >= 10 + blocks }.sorted()
    guard after.count == 3 else {
      throw mismatch([
        "expected two up-stage convs and an output conv after the blocks, found"
          + " \(after.map { describe("model.\($0).weight") })"
      ])
    }
    upIndices = Array(after[0..<2])
    outputIndex = after[2]
    let up = upIndices.map { topLevelConvs[$0]! }
    if up[0] == [4 * ngf, 2 * ngf, 3, 3], up[1] == [2 * ngf, ngf, 3, 3] {
      upsampling = .transposedConvolution
    } else if up[0] == [2 * ngf, 4 * ngf, 3, 3], up[1] == [ngf, 2 * ngf, 3, 3] {
      upsampling = .upsampleConvolution
    } else {
      throw mismatch(
        upIndices.map { describe("model.\($0).weight") }
          + [
            "with ngf \(ngf) expected [\(4 * ngf), \(2 * ngf), 3, 3] and [\(2 * ngf), \(ngf), 3, 3]"
              + " (transposed convs) or [\(2 * ngf), \(4 * ngf), 3, 3] and"
              + " [\(ngf), \(2 * ngf), 3, 3] (upsample and conv)"
          ])
    }
    let output = topLevelConvs[outputIndex]!
    guard output[1] == ngf, output[2] == 7, output[3] == 7, output[0] > 0 else {
      throw mismatch([
        describe("model.\(outputIndex).weight") + ", expected [output channels, \(ngf), 7, 7]"
      ])
    }
    self.ngf = ngf
    self.blocks = blocks
    inputChannels = stem[1]
    outputChannels = output[0]

    // Norm: batch norms are affine; instance norms are not, and make the convs carry a bias.
    if shapes["model.2.weight"] != nil {
      norm = .batch
    } else if shapes["model.1.bias"] != nil {
      norm = .instance
    } else {
      norm = .none
    }

    // Every key and shape must be the layout's, and nothing else.
    let expected = expectedShapes
    var problems: [String] = []
    for (key, shape) in expected where shapes[key] != shape {
      if key.hasSuffix("num_batches_tracked"), shapes[key] == nil { continue }
      problems.append("\(describe(key)), expected \(shape)")
    }
    let expectedKeys = Set(expected.map(\.key))
    for key in ReferenceKeys.stateDictOrder(shapes.keys) where !expectedKeys.contains(key) {
      problems.append("\(key) (shape \(shapes[key]!)) is not part of this architecture")
    }
    guard problems.isEmpty else {
      throw CheckpointError(
        .architectureMismatch, path: path,
        reason: "does not match a \(blocks)-block ResNet generator with ngf \(ngf)"
          + "\(dropout ? " and dropout" : ""): " + problems.joined(separator: "; "))
    }
  }

  /// The state_dict keys and shapes of this architecture, in the reference's order.
  public var expectedShapes: [(key: String, shape: [Int])] {
    var result: [(key: String, shape: [Int])] = []
    func conv(_ module: String, _ shape: [Int], bias: Bool, transposed: Bool = false) {
      result.append((module + ".weight", shape))
      // A conv's weight is [out, in, k, k]; a transposed conv's is [in, out, k, k].
      if bias { result.append((module + ".bias", [transposed ? shape[1] : shape[0]])) }
    }
    func normalization(_ module: String, channels: Int) {
      guard norm == .batch else { return }
      result += [
        (module + ".weight", [channels]), (module + ".bias", [channels]),
        (module + ".running_mean", [channels]), (module + ".running_var", [channels]),
        (module + ".num_batches_tracked", []),
      ]
    }
    let bias = norm == .instance
    conv("model.1", [ngf, inputChannels, 7, 7], bias: bias)
    normalization("model.2", channels: ngf)
    conv("model.4", [2 * ngf, ngf, 3, 3], bias: bias)
    normalization("model.5", channels: 2 * ngf)
    conv("model.7", [4 * ngf, 2 * ngf, 3, 3], bias: bias)
    normalization("model.8", channels: 4 * ngf)
    let width = 4 * ngf
    for block in 10..<10 + blocks {
      let second = dropout ? 6 : 5
      conv("model.\(block).conv_block.1", [width, width, 3, 3], bias: bias)
      normalization("model.\(block).conv_block.2", channels: width)
      conv("model.\(block).conv_block.\(second)", [width, width, 3, 3], bias: bias)
      normalization("model.\(block).conv_block.\(second + 1)", channels: width)
    }
    for (stage, index) in upIndices.enumerated() {
      let input = 4 * ngf >> stage
      let output = input / 2
      let shape =
        upsampling == .transposedConvolution ? [input, output, 3, 3] : [output, input, 3, 3]
      conv("model.\(index)", shape, bias: bias, transposed: upsampling == .transposedConvolution)
      normalization("model.\(index + 1)", channels: output)
    }
    conv("model.\(outputIndex)", [outputChannels, ngf, 7, 7], bias: true)
    return result
  }

  /// The disagreements between this layout and the architecture a user asked for, each naming
  /// the key and shape that show it; empty when they agree.
  public func conflicts(blocks requestedBlocks: Int?, ngf requestedNGF: Int?) -> [String] {
    var conflicts: [String] = []
    if let requestedBlocks, requestedBlocks != blocks {
      conflicts.append(
        "resnet_\(requestedBlocks)blocks was asked for, but the file has \(blocks) residual"
          + " blocks (model.10 to model.\(9 + blocks))")
    }
    if let requestedNGF, requestedNGF != ngf {
      conflicts.append(
        "--ngf \(requestedNGF) was asked for, but model.1.weight has shape"
          + " [\(ngf), \(inputChannels), 7, 7] (ngf \(ngf))")
    }
    return conflicts
  }
}
