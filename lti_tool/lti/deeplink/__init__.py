"""Deep Linking 2.0: the request's settings, the signed response, the picker's steps."""
