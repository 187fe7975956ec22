"""Built-in weak-to-strong methods, one module each; every module here is imported by the method registry's
package scan, and registers its methods with `@METHODS.register(name)`."""
