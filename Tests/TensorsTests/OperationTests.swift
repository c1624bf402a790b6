import Testing

@testable import Tensors

// Every operation forward and backward against PyTorch (float64 references of float32 inputs,
// from scripts/make_tensor_fixtures.py). Gradients are those of sum(output · upstream).

/// Runs `operation` on leaves made from the case's `inputs` (names starting with `const_` stay
/// constants), back-propagates the stored upstream gradient, and compares the output and every
/// input's gradient with PyTorch's.
func checkAgainstTorch(
  _ name: String, inputs: [String], rtol: Float = 1e-4, atol: Float = 1e-5,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ operation: ([Tensor]) -> Tensor
) {
  let reference = OperationFixtures.shared(name)
  let leaves = inputs.map { input in
    input.hasPrefix("const_")
      ? reference.tensor(input) : reference.tensor(input).requiringGradient()
  }
  let output = operation(leaves)
  expectClose(
    output, reference.tensor("output"), rtol: rtol, atol: atol, "\(name) output",
    sourceLocation: sourceLocation)

  output.backward(seed: reference.tensor("upstream"))
  for (input, leaf) in zip(inputs, leaves) where !input.hasPrefix("const_") {
    expectClose(
      leaf.gradient, reference.tensor("grad_" + input), rtol: rtol, atol: atol,
      "\(name) gradient of \(input)", sourceLocation: sourceLocation)
  }
}

@Test(arguments: 0..<5)
func paddingMatchesTorch(index: Int) {
  let name = "pad_\(index)"
  let reference = OperationFixtures.shared(name)
  let (left, right, top, bottom) = (
    reference.integer("left"), reference.integer("right"), reference.integer("top"),
    reference.integer("bottom")
  )
  let mode = reference.strings["mode"] ?? ""
  checkAgainstTorch(name, inputs: ["input"], rtol: 0, atol: 1e-6) { inputs in
    switch mode {
    case "reflect":
      return reflectionPad2d(inputs[0], left: left, right: right, top: top, bottom: bottom)
    case "replicate":
      return replicationPad2d(inputs[0], left: left, right: right, top: top, bottom: bottom)
    default:
      return zeroPad2d(inputs[0], left: left, right: right, top: top, bottom: bottom)
    }
  }
}

@Test func uniformPaddingEqualsPerSidePadding() {
  let input = OperationFixtures.shared("pad_0").tensor("input")
  #expect(
    reflectionPad2d(input, padding: 2).scalars
      == reflectionPad2d(input, left: 2, right: 2, top: 2, bottom: 2).scalars)
  #expect(
    replicationPad2d(input, padding: 3).scalars
      == replicationPad2d(input, left: 3, right: 3, top: 3, bottom: 3).scalars)
  #expect(zeroPad2d(input, padding: 1).shape == [2, 3, 7, 8])
}

@Test(arguments: 0..<5)
func instanceNormMatchesTorch(index: Int) {
  let name = "instanceNorm2d_\(index)"
  let affine = OperationFixtures.shared(name).parameters["affine"] == 1
  checkAgainstTorch(
    name, inputs: affine ? ["input", "weight", "bias"] : ["input"], rtol: 1e-4, atol: 5e-5
  ) { inputs in
    affine
      ? instanceNorm2d(inputs[0], weight: inputs[1], bias: inputs[2])
      : instanceNorm2d(inputs[0])
  }
}

@Test(arguments: 0..<2)
func batchNormMatchesTorch(index: Int) {
  let name = "batchNorm2d_\(index)"
  let reference = OperationFixtures.shared(name)
  let training = reference.parameters["training"] == 1
  var runningMean = reference.tensor("running_mean")
  var runningVariance = reference.tensor("running_var")
  checkAgainstTorch(name, inputs: ["input", "weight", "bias"], rtol: 1e-4, atol: 5e-5) {
    inputs in
    batchNorm2d(
      inputs[0], weight: inputs[1], bias: inputs[2], runningMean: &runningMean,
      runningVariance: &runningVariance, momentum: 0.1, training: training)
  }
  expectClose(
    runningMean, reference.tensor("updated_running_mean"), rtol: 1e-5, atol: 1e-6,
    "\(name) running mean")
  expectClose(
    runningVariance, reference.tensor("updated_running_var"), rtol: 1e-5, atol: 1e-6,
    "\(name) running variance")
}

@Test func activationsMatchTorch() {
  checkAgainstTorch("relu", inputs: ["input"], rtol: 0, atol: 0) { relu($0[0]) }
  checkAgainstTorch("leakyRelu", inputs: ["input"], rtol: 1e-6, atol: 1e-7) {
    leakyRelu($0[0], slope: 0.2)
  }
  checkAgainstTorch("tanh", inputs: ["input"], rtol: 1e-5, atol: 1e-6) { tanh($0[0]) }
  checkAgainstTorch("sigmoid", inputs: ["input"], rtol: 1e-5, atol: 1e-6) { sigmoid($0[0]) }
}

@Test(arguments: 0..<5)
func upsamplingMatchesTorch(index: Int) {
  let name = "upsample_\(index)"
  let reference = OperationFixtures.shared(name)
  let scale = reference.integer("scale")
  let nearest = reference.strings["mode"] == "nearest"
  checkAgainstTorch(name, inputs: ["input"], rtol: 1e-5, atol: 1e-6) { inputs in
    nearest
      ? upsampleNearest2d(inputs[0], scale: scale) : upsampleBilinear2d(inputs[0], scale: scale)
  }
}

@Test func arithmeticMatchesTorch() {
  checkAgainstTorch("add", inputs: ["lhs", "rhs"], rtol: 1e-6, atol: 1e-7) { $0[0] + $0[1] }
  checkAgainstTorch("subtract", inputs: ["lhs", "rhs"], rtol: 1e-6, atol: 1e-7) { $0[0] - $0[1] }
  checkAgainstTorch("multiply", inputs: ["lhs", "rhs"], rtol: 1e-6, atol: 1e-7) { $0[0] * $0[1] }
  checkAgainstTorch("scale", inputs: ["input"], rtol: 1e-6, atol: 1e-7) { $0[0] * 0.37 }
}

@Test func reductionsMatchTorch() {
  checkAgainstTorch("sum", inputs: ["input"], rtol: 1e-6, atol: 1e-5) { $0[0].sum() }
  checkAgainstTorch("mean", inputs: ["input"], rtol: 1e-6, atol: 1e-7) { $0[0].mean() }
}

@Test func concatenationMatchesTorch() {
  checkAgainstTorch(
    "concatenate_channels", inputs: ["first", "second", "third"], rtol: 0, atol: 0
  ) { concatenate($0, alongAxis: 1) }
  checkAgainstTorch("concatenate_batch", inputs: ["first", "second"], rtol: 0, atol: 0) {
    concatenate($0, alongAxis: 0)
  }
}

@Test func lossesMatchTorch() {
  checkAgainstTorch("l1Loss", inputs: ["lhs", "rhs"], rtol: 1e-5, atol: 1e-7) {
    l1Loss($0[0], $0[1])
  }
  checkAgainstTorch("mseLoss", inputs: ["lhs", "rhs"], rtol: 1e-5, atol: 1e-7) {
    mseLoss($0[0], $0[1])
  }
  checkAgainstTorch("binaryCrossEntropyWithLogits", inputs: ["lhs", "rhs"], rtol: 1e-5, atol: 1e-7)
  {
    binaryCrossEntropyWithLogits($0[0], $0[1])
  }
  checkAgainstTorch(
    "binaryCrossEntropyWithLogits_ones", inputs: ["lhs", "const_rhs"], rtol: 1e-5, atol: 1e-7
  ) { binaryCrossEntropyWithLogits($0[0], $0[1]) }
}

@Test(arguments: [false, true])
func fusedInstanceNormReluEqualsTheTwoOperations(affine: Bool) {
  var generator = RandomGenerator(seed: 21)
  let input = Tensor.randomNormal(shape: [2, 3, 9, 11], using: &generator)
  let weight = Tensor.randomUniform(shape: [3], lowerBound: -1, upperBound: 2, using: &generator)
  let bias = Tensor.randomNormal(shape: [3], using: &generator)
  let upstream = Tensor.randomNormal(shape: [2, 3, 9, 11], using: &generator)

  func run(_ fused: Bool) -> [Tensor?] {
    let leaves = [input, weight, bias].map { $0.requiringGradient() }
    let (w, b) = affine ? (leaves[1], leaves[2]) : (nil, nil)
    let output =
      fused
      ? instanceNormRelu2d(leaves[0], weight: w, bias: b)
      : relu(instanceNorm2d(leaves[0], weight: w, bias: b))
    output.backward(seed: upstream)
    return [output] + leaves.map(\.gradient)
  }
  let (fused, separate) = (run(true), run(false))
  for (index, name) in ["output", "input gradient", "weight gradient", "bias gradient"]
    .enumerated()
  {
    guard let expected = separate[index] else {
      #expect(fused[index] == nil, "\(name): unexpected gradient")
      continue
    }
    expectClose(fused[index], expected, rtol: 0, atol: 0, "fused \(name)")
  }
}
