"""One router per API of the sandbox, and one for its control plane."""

from . import auth, control, leerlingen, personeel, rekeningen

ROUTERS = (auth.router, leerlingen.router, personeel.router, rekeningen.router, control.router)
