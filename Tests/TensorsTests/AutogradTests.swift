import Foundation
import Testing

@testable import Tensors

// Autograd semantics (PyTorch's): leaves, accumulation, detaching, inference mode, graph
// freeing; and finite-difference checks of composite graphs.

@Test func gradientsAccumulateAcrossUsesOfOneTensor() {
  // y = Σ (x·x + 3x) ⇒ dy/dx = 2x + 3.
  let x = Tensor(shape: [2, 3], scalars: [1, -2, 0.5, 4, 0, -1.5], requiresGradient: true)
  let y = (x * x + x * 3).sum()
  y.backward()
  expectClose(
    x.gradient, Tensor(shape: [2, 3], scalars: x.scalars.map { 2 * $0 + 3 }), rtol: 0, atol: 0,
    "d/dx Σ(x² + 3x)")
}

@Test func gradientsAccumulateAcrossBackwardCallsUntilCleared() {
  let x = Tensor(shape: [3], scalars: [1, 2, 3], requiresGradient: true)
  (x * 2).sum().backward()
  (x * 5).sum().backward()
  expectClose(x.gradient, Tensor(shape: [3], repeating: 7), rtol: 0, atol: 0, "2 + 5")

  x.gradient = nil
  (x * 4).sum().backward()
  expectClose(x.gradient, Tensor(shape: [3], repeating: 4), rtol: 0, atol: 0, "after clearing")
}

@Test func copiesOfALeafShareItsGradient() {
  let parameter = Tensor(shape: [2], scalars: [1, 2], requiresGradient: true)
  let copy = parameter
  (copy * copy).sum().backward()
  expectClose(parameter.gradient, Tensor(shape: [2], scalars: [2, 4]), rtol: 0, atol: 0, "2x")
  #expect(parameter.isGradientLeaf)
  #expect(!(parameter * 2).isGradientLeaf)
  #expect((parameter * 2).gradient == nil)
}

@Test func overwritingALeafKeepsItALeaf() {
  var parameter = Tensor(shape: [2], scalars: [1, 2], requiresGradient: true)
  parameter.scalars = [3, -1]
  (parameter * parameter).sum().backward()
  expectClose(parameter.gradient, Tensor(shape: [2], scalars: [6, -2]), rtol: 0, atol: 0, "2x")
}

@Test func detachedCutsTheGraph() {
  let x = Tensor(shape: [2], scalars: [1, 2], requiresGradient: true)
  let y = x * 3
  let z = (y.detached() * x).sum()  // only the second factor carries a gradient: 3x
  z.backward()
  expectClose(x.gradient, Tensor(shape: [2], scalars: [3, 6]), rtol: 0, atol: 0, "3x")
  #expect(!y.detached().requiresGradient)
  #expect(y.detached().scalars == y.scalars)
}

@Test func constantsGetNoGradientAndRecordNothing() {
  let constant = Tensor(shape: [2], scalars: [1, 2])
  let x = Tensor(shape: [2], scalars: [3, 4], requiresGradient: true)
  #expect(!(constant * 2 + constant).requiresGradient)
  let loss = mseLoss(x, constant)
  #expect(loss.requiresGradient)
  loss.backward()
  expectClose(x.gradient, Tensor(shape: [2], scalars: [2, 2]), rtol: 0, atol: 1e-7, "(x − t)")
  #expect(constant.gradient == nil)
}

@Test func inferenceModeRecordsNothing() {
  let weight = Tensor(shape: [2, 1, 3, 3], repeating: 0.1, requiresGradient: true)
  let input = Tensor(shape: [1, 1, 5, 5], repeating: 1)
  let output = withoutGradients {
    #expect(!isRecordingGradients)
    return relu(instanceNorm2d(conv2d(input, weight: weight, padding: 1)))
  }
  #expect(isRecordingGradients)
  #expect(!output.requiresGradient)
  #expect(output.shape == [1, 2, 5, 5])
  #expect(conv2d(input, weight: weight).requiresGradient)
}

@Test func inferenceModeFreesEachIntermediate() {
  // Intermediates are referenced by no graph, so dropping the last use frees their storage.
  weak var intermediateStorage: TensorStorage?
  let input = Tensor(shape: [1, 2, 4, 4], repeating: 0.5, requiresGradient: true)
  let output = withoutGradients {
    let intermediate = input * 2
    intermediateStorage = intermediate.storage
    return zeroPad2d(intermediate, padding: 1)
  }
  #expect(intermediateStorage == nil)
  #expect(output.shape == [1, 2, 6, 6])
}

@Test func elementwiseOperationsReuseAnUnsharedInput() {
  let input = Tensor(shape: [2, 3, 5, 5], repeating: -0.5)
  let address = { (tensor: Tensor) in
    tensor.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
  }

  // The last reference handed over: written in place.
  let temporary = input * 2
  let temporaryAddress = address(temporary)
  let activated = leakyRelu(consume temporary, slope: 0.1)
  #expect(address(activated) == temporaryAddress)
  #expect(activated.scalars.allSatisfy { $0 == -0.1 })

  // A still-referenced input is left alone.
  let kept = input * 3
  let result = tanh(kept)
  #expect(address(result) != address(kept))
  #expect(kept.scalars.allSatisfy { $0 == -1.5 })
  #expect(input.scalars.allSatisfy { $0 == -0.5 })
}

@Test func trainingGraphIsFreedByBackwardAndWhenDropped() {
  weak var savedStorage: TensorStorage?
  weak var graphNode: AutogradNode?
  let x = Tensor(shape: [4], scalars: [1, -2, 3, -4], requiresGradient: true)
  do {
    let hidden = tanh(x * 2)
    savedStorage = hidden.storage
    graphNode = hidden.node
    let loss = (hidden * hidden).mean()
    #expect(savedStorage != nil)
    loss.backward()
  }
  #expect(graphNode == nil)
  #expect(savedStorage == nil)
  #expect(x.gradient != nil)

  // A graph dropped without backward is freed too (no reference cycles).
  do {
    let hidden = sigmoid(x) * x
    graphNode = hidden.node
    _ = hidden.sum()
  }
  #expect(graphNode == nil)
}

@Test func retainingTheGraphAllowsASecondBackward() {
  let x = Tensor(shape: [2], scalars: [0.5, -1], requiresGradient: true)
  let loss = (tanh(x) * x).sum()
  loss.backward(retainingGraph: true)
  let first = x.gradient?.scalars ?? []
  loss.backward()
  expectClose(
    x.gradient, Tensor(shape: [2], scalars: first.map { 2 * $0 }), rtol: 1e-6, atol: 0,
    "twice the first gradient")
}

// MARK: - Finite differences

/// Compares the gradient of `loss` at `inputs` with central differences along random
/// directions: `(L(x + εv) − L(x − εv)) / 2ε ≈ ∇L·v` for each input, in Float32.
func checkFiniteDifferences(
  _ label: String, inputs: [Tensor], directions: Int = 3, epsilon: Float = 1e-2,
  rtol: Float = 2e-2, atol: Float = 2e-3, seed: UInt64 = 7,
  _ loss: ([Tensor]) -> Tensor, sourceLocation: SourceLocation = #_sourceLocation
) {
  let leaves = inputs.map { $0.requiringGradient() }
  loss(leaves).backward()
  var generator = RandomGenerator(seed: seed)
  for (inputIndex, leaf) in leaves.enumerated() {
    let gradient = leaf.gradient?.scalars ?? []
    for direction in 0..<directions {
      let step = Tensor.randomNormal(shape: leaf.shape, using: &generator)
      let analytic = zip(gradient, step.scalars).reduce(0.0) { $0 + Double($1.0 * $1.1) }
      func lossAlong(_ sign: Float) -> Double {
        var shifted = inputs
        shifted[inputIndex] = inputs[inputIndex] + step * (sign * epsilon)
        return Double(withoutGradients { loss(shifted) }.scalar)
      }
      let numeric = (lossAlong(1) - lossAlong(-1)) / Double(2 * epsilon)
      let difference = abs(numeric - analytic)
      #expect(
        difference <= Double(atol) + Double(rtol) * abs(numeric),
        """
        \(label): input \(inputIndex), direction \(direction): ∇L·v = \(analytic), finite \
        difference \(numeric), |Δ| = \(difference)
        """, sourceLocation: sourceLocation)
    }
  }
}

@Test func generatorLikeGraphPassesFiniteDifferences() {
  // pad → conv → instance norm (affine) → leaky ReLU → stride-2 conv → transposed conv →
  // skip connection → tanh → L1 + MSE; the input is used twice.
  var generator = RandomGenerator(seed: 11)
  let input = Tensor.randomNormal(shape: [1, 3, 7, 6], using: &generator)
  let weight1 = Tensor.randomNormal(shape: [5, 3, 3, 3], standardDeviation: 0.3, using: &generator)
  let bias1 = Tensor.randomNormal(shape: [5], standardDeviation: 0.1, using: &generator)
  let gamma = Tensor.randomUniform(shape: [5], lowerBound: 0.5, upperBound: 1.5, using: &generator)
  let beta = Tensor.randomNormal(shape: [5], standardDeviation: 0.1, using: &generator)
  let weight2 = Tensor.randomNormal(shape: [4, 5, 3, 3], standardDeviation: 0.3, using: &generator)
  let weight3 = Tensor.randomNormal(shape: [4, 3, 3, 3], standardDeviation: 0.3, using: &generator)
  // Targets beyond tanh's range, so that |output − target| has no kink nearby.
  let target = Tensor.randomUniform(
    shape: [1, 3, 7, 6], lowerBound: 1.2, upperBound: 2, using: &generator)

  checkFiniteDifferences(
    "generator-like graph", inputs: [input, weight1, bias1, gamma, beta, weight2, weight3]
  ) { p in
    let padded = reflectionPad2d(p[0], padding: 1)
    let features = conv2d(padded, weight: p[1], bias: p[2])  // [1, 5, 7, 6]
    let normalized = leakyRelu(instanceNorm2d(features, weight: p[3], bias: p[4]), slope: 0.2)
    let down = conv2d(normalized, weight: p[5], stride: 2, padding: 1)  // [1, 4, 4, 3]
    let up = convTranspose2d(down, weight: p[6], stride: 2, padding: 1)  // [1, 3, 7, 5]
    let widened = replicationPad2d(up, left: 0, right: 1, top: 0, bottom: 0)  // [1, 3, 7, 6]
    let output = tanh(widened + p[0] * 0.5)
    return l1Loss(output, target) + mseLoss(output, target) * 0.5
  }
}

@Test func discriminatorLikeGraphPassesFiniteDifferences() {
  // conv → batch norm (training) → sigmoid → upsample → concat with the input → conv →
  // BCE with logits against real and fake labels.
  var generator = RandomGenerator(seed: 12)
  let input = Tensor.randomNormal(shape: [2, 2, 6, 6], using: &generator)
  let weight1 = Tensor.randomNormal(shape: [3, 2, 4, 4], standardDeviation: 0.3, using: &generator)
  let gamma = Tensor.randomUniform(shape: [3], lowerBound: 0.5, upperBound: 1.5, using: &generator)
  let beta = Tensor.randomNormal(shape: [3], standardDeviation: 0.1, using: &generator)
  let weight2 = Tensor.randomNormal(shape: [1, 5, 3, 3], standardDeviation: 0.3, using: &generator)

  checkFiniteDifferences(
    "discriminator-like graph", inputs: [input, weight1, gamma, beta, weight2]
  ) { p in
    var runningMean = Tensor.zeros(shape: [3])
    var runningVariance = Tensor.ones(shape: [3])
    let features = conv2d(p[0], weight: p[1], stride: 2, padding: 1)  // [2, 3, 3, 3]
    let normalized = batchNorm2d(
      features, weight: p[2], bias: p[3], runningMean: &runningMean,
      runningVariance: &runningVariance, training: true)
    let smooth = upsampleBilinear2d(sigmoid(normalized), scale: 2)  // [2, 3, 6, 6]
    let nearest = upsampleNearest2d(normalized, scale: 2)
    let joined = concatenate([smooth - nearest * 0.1, p[0]], alongAxis: 1)  // [2, 5, 6, 6]
    let padded = zeroPad2d(
      reflectionPad2d(joined, left: 1, right: 0, top: 0, bottom: 1), padding: 1)  // [2, 5, 9, 9]
    let logits = conv2d(padded, weight: p[4])  // [2, 1, 7, 7]
    let real = Tensor.ones(shape: logits.shape)
    let fake = Tensor.zeros(shape: logits.shape)
    return (binaryCrossEntropyWithLogits(logits, real) + binaryCrossEntropyWithLogits(logits, fake))
      * 0.5 + logits.sum() * 0.01
  }
}

@Test func backwardLeavesTheSeedAndSavedValuesIntact() {
  // Backward passes write into gradient buffers that nothing else holds, never into others.
  let x = Tensor(shape: [2, 2], scalars: [0.5, -1, 2, 0.25], requiresGradient: true)
  let seed = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
  let hidden = tanh(x * 2)
  let kept = hidden.detached()
  let output = sigmoid(instanceNormRelu2d(hidden.reshaped(to: [1, 1, 2, 2]))).reshaped(to: [2, 2])
  output.backward(seed: seed, retainingGraph: true)
  #expect(seed.scalars == [1, 2, 3, 4])
  #expect(kept.scalars == x.scalars.map { Foundation.tanh(2 * $0) })
  let first = x.gradient?.scalars ?? []
  output.backward(seed: seed)
  expectClose(
    x.gradient, Tensor(shape: [2, 2], scalars: first.map { 2 * $0 }), rtol: 1e-6, atol: 1e-7,
    "second walk of a retained graph")
}
