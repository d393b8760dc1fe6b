"""Import every domain's models so the metadata is complete for migrations and checks."""
from attachments import models as _attachments  # noqa: F401
from audit import models as _audit  # noqa: F401
from collab import models as _collab  # noqa: F401
from collab.calendar import models as _calendar  # noqa: F401
from definitions import models as _definitions  # noqa: F401
from documents import models as _documents  # noqa: F401
from instances import models as _instances  # noqa: F401
from org import models as _org  # noqa: F401
from org import workcal_models as _workcal  # noqa: F401
from records import models as _records  # noqa: F401
from search import models as _search  # noqa: F401

from .base import Base

metadata = Base.metadata
