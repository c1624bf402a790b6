/// Kernels: the compute-heavy loops of Transmute over raw Float32 buffers (convolution through
/// im2col and OpenBLAS sgemm, transposed convolution), each with a plain reference version.
/// They know nothing of autograd; `Tensors` wraps them as differentiable operations.
import CBLAS
