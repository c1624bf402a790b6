import Testing

@testable import Tensors

@Test(arguments: 0..<5)
func conv2dMatchesTorch(index: Int) {
  let name = "conv2d_\(index)"
  let reference = OperationFixtures.shared(name)
  let (stride, padding) = (reference.integer("stride"), reference.integer("padding"))
  let hasBias = reference.tensors["bias"] != nil
  checkAgainstTorch(
    name, inputs: hasBias ? ["input", "weight", "bias"] : ["input", "weight"], rtol: 1e-4,
    atol: 1e-4
  ) { inputs in
    conv2d(
      inputs[0], weight: inputs[1], bias: hasBias ? inputs[2] : nil, stride: stride,
      padding: padding)
  }
}

@Test(arguments: 0..<4)
func convTranspose2dMatchesTorch(index: Int) {
  let name = "convTranspose2d_\(index)"
  let reference = OperationFixtures.shared(name)
  let (stride, padding) = (reference.integer("stride"), reference.integer("padding"))
  let outputPadding = reference.integer("outputPadding")
  let hasBias = reference.tensors["bias"] != nil
  checkAgainstTorch(
    name, inputs: hasBias ? ["input", "weight", "bias"] : ["input", "weight"], rtol: 1e-4,
    atol: 1e-4
  ) { inputs in
    convTranspose2d(
      inputs[0], weight: inputs[1], bias: hasBias ? inputs[2] : nil, stride: stride,
      padding: padding, outputPadding: outputPadding)
  }
}
