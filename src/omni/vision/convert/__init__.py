"""Install-time model converters: turn published model files into the ONNX files Omni runs."""
