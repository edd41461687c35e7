"""Building blocks shared by the API's viewsets and serializers."""

from __future__ import annotations

import copy
import datetime
import hashlib
from collections.abc import Sequence
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework import ISO_8601, exceptions, mixins, serializers, viewsets
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from recordkeeping import audit
from recordkeeping.api.errors import PreconditionFailed, validation_error
from recordkeeping.permissions import CHANGE, VIEW, allowed, path_readable, readable_fields

# Fields whose to_representation needs nothing but the value.
_PLAIN_FIELDS = (
    serializers.BooleanField,
    serializers.CharField,
    serializers.ChoiceField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.DecimalField,
    serializers.FloatField,
    serializers.IntegerField,
    serializers.UUIDField,
)
# Fields whose to_representation gives back a value of this type as it is.
_KEPT_AS_IS = {
    serializers.BooleanField.to_representation: bool,
    serializers.CharField.to_representation: str,
    serializers.ChoiceField.to_representation: str,
    serializers.IntegerField.to_representation: int,
}


def _writer(field: serializers.Field) -> tuple[type | None, Any]:
    """How a plain field's value is written: (a type kept as it is, a function for the rest)."""
    method = type(field).to_representation
    if (
        isinstance(field, serializers.DateTimeField)
        and method is serializers.DateTimeField.to_representation
        and getattr(field, "format", api_settings.DATETIME_FORMAT).lower() == ISO_8601
        and not hasattr(field, "timezone")
    ):
        zone = field.default_timezone()  # per request, as DRF reads it for each value

        def moment(value: Any) -> Any:
            if not isinstance(value, datetime.datetime) or value.tzinfo is None or not zone:
                return field.to_representation(value)
            try:
                text = value.astimezone(zone).isoformat()
            except OverflowError:
                return field.to_representation(value)  # DRF's error
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return None, moment
    return _KEPT_AS_IS.get(method), field.to_representation


class DirectReadMixin:
    """A model serializer that reads its model's own columns straight off the instance.

    DRF's generic read (dotted sources, callables, primary-key stand-ins) costs more than the
    data in a page of records with nested rows. A field whose source is one concrete column is
    read with getattr (a foreign key as its id) and written by _writer, which gives what the
    field's to_representation does; every other field goes DRF's way.
    """

    @cached_property
    def _read_plan(self) -> list[tuple[str, str | None, type | None, Any]]:
        """Per field: (name, the column's attribute or None, the type of values kept as they
        are (``object``: all of them), the writer or else the DRF field)."""
        columns = {f.name: f for f in self.Meta.model._meta.concrete_fields}  # type: ignore[attr-defined]
        plan: list[tuple[str, str | None, type | None, Any]] = []
        for field in self._readable_fields:  # type: ignore[attr-defined]
            name: str = field.field_name  # set when the field was bound to the serializer
            column = columns.get(field.source) if len(field.source_attrs) == 1 else None
            if column is None:
                plan.append((name, None, None, field))
            elif column.is_relation and type(field) is serializers.PrimaryKeyRelatedField:
                if field.pk_field is None:
                    plan.append((name, column.attname, object, None))
                else:
                    plan.append((name, None, None, field))
            elif not column.is_relation and isinstance(field, _PLAIN_FIELDS):
                plan.append((name, column.attname, *_writer(field)))
            else:
                plan.append((name, None, None, field))
        return plan

    def to_representation(self, instance: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, attname, kept, write in self._read_plan:
            if attname is not None:
                value = getattr(instance, attname)
                if value is None or kept is object or type(value) is kept:
                    values[name] = value
                else:
                    values[name] = write(value)
                continue
            try:
                attribute = write.get_attribute(instance)
            except SkipField:
                continue
            present = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            values[name] = None if present is None else write.to_representation(attribute)
        return values


_BUILT_FIELDS: dict[type, dict[str, serializers.Field]] = {}


def _fields_of(serializer: Any, build: Any) -> dict[str, serializers.Field]:
    """The serializer's fields, unbound: built (model introspection, field arguments) once per
    class and copied for each use. A nested serializer is built again, as DRF copies it."""
    built = _BUILT_FIELDS.get(type(serializer))
    if built is None:
        built = _BUILT_FIELDS.setdefault(type(serializer), build())
    return {
        name: copy.deepcopy(field)
        if isinstance(field, serializers.BaseSerializer)
        else copy.copy(field)
        for name, field in built.items()
    }


class RoleFieldsMixin(DirectReadMixin):
    """Only the fields the requesting user's role may read (clinic.permissions); nested records
    of a model the role may not see are left out whole."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # A mixin: the serializer after it in the class's MRO has get_fields.
        fields = _fields_of(self, super().get_fields)  # type: ignore[misc]
        request = self.context.get("request")  # type: ignore[attr-defined]
        view = self.context.get("view")  # type: ignore[attr-defined]
        if request is None or getattr(view, "swagger_fake_view", False):
            return fields  # no one's request, or the OpenAPI schema: every field
        readable = readable_fields(request.user, self.Meta.model)  # type: ignore[attr-defined]
        for name, field in list(fields.items()):
            nested = getattr(field, "child", field)
            if (readable is not None and name not in readable) or (
                isinstance(nested, serializers.ModelSerializer)
                and not allowed(request.user, nested.Meta.model, VIEW)
            ):
                del fields[name]
        return fields


class StrictFieldsMixin:
    """Refuse fields the resource does not have, instead of silently dropping them.

    Read-only fields (``id``, ``mrn``, ...) may be sent back as they were read; they are ignored.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))  # type: ignore[attr-defined]
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


class ModelCleanSerializer(RoleFieldsMixin, StrictFieldsMixin, serializers.ModelSerializer):
    """Runs the model's own validation (``full_clean``: field validators and ``clean()``), so an
    API client gets the same field errors as the admin, and saves in one transaction."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Validate a copy: the stored record is only changed by save().
        model: type[models.Model] = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            # Check constraints are left to PostgreSQL (one query each here); a violation comes
            # back as a 400 naming the field all the same (clinic.api.errors).
            instance.full_clean(exclude=self.clean_exclude(), validate_constraints=False)
        except DjangoValidationError as error:
            raise validation_error(error) from error
        return attrs

    def clean_exclude(self) -> list[str]:
        """Model fields the client does not write are left to the model's defaults."""
        writable = {name for name, field in self.fields.items() if not field.read_only}
        model: type[models.Model] = self.Meta.model
        return [f.name for f in model._meta.fields if f.name not in writable]

    def create(self, validated_data: dict[str, Any]) -> models.Model:
        with transaction.atomic():
            return super().create(validated_data)

    def update(self, instance: Any, validated_data: dict[str, Any]) -> models.Model:
        with transaction.atomic():
            return super().update(instance, validated_data)


def etag_of(instance: models.Model) -> str:
    version = f"{instance._meta.label}:{instance.pk}:{instance.updated_at.isoformat()}"  # type: ignore[attr-defined]
    return '"' + hashlib.sha256(version.encode()).hexdigest()[:32] + '"'


class ETagMixin:
    """``ETag`` on every single-record response; ``If-Match`` on writes must match it (412)."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        self.read_records: Sequence[models.Model] | None = [instance]
        response = Response(self.get_serializer(instance).data)  # type: ignore[attr-defined]
        response["ETag"] = etag_of(instance)
        return response

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().create(request, *args, **kwargs)  # type: ignore[misc]
        response["ETag"] = etag_of(self.created)
        return response

    author_field: str | None = None  # a field that records who created the record

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        author = {self.author_field: self.request.user} if self.author_field else {}  # type: ignore[attr-defined]
        self.created = serializer.save(**author)
        self.reread(serializer)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save()
        self.reread(serializer)

    def reread(self, serializer: serializers.BaseSerializer) -> None:
        """Answer a write with the record as a read gives it: through the view's queryset, whose
        joins and prefetches load nested rows at once (not a query per row)."""
        saved = cast(models.Model, serializer.instance)  # save() has just set it
        fresh = self.get_queryset().filter(pk=saved.pk).first()  # type: ignore[attr-defined]
        if fresh is not None:
            serializer.instance = fresh

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            instance = self.get_object()  # type: ignore[attr-defined]
            locked = type(instance).objects.select_for_update().get(pk=instance.pk)
            self.check_if_match(request, locked)
            self.check_writable(locked)
            response = super().update(request, *args, **kwargs)  # type: ignore[misc]
        instance.refresh_from_db()
        response["ETag"] = etag_of(instance)
        return response

    def check_writable(self, instance: Any) -> None:
        """Refuse (raise) when the record (of the viewset's model) is final; by default every
        record may change."""

    @staticmethod
    def check_if_match(request: Request, instance: models.Model) -> None:
        header = request.headers.get("If-Match")
        if header is None or header.strip() == "*":
            return
        offered = {tag.strip() for tag in header.split(",")}
        if etag_of(instance) not in offered:
            raise PreconditionFailed()


SEARCH_PREFIXES = "^=@$"
REFUSED = "Your role may not read this field, so it may not filter, search or order by it."


def hidden_parameters(request: Request, view: Any, model: type[models.Model]) -> dict[str, list]:
    """The query parameters of a list that filter, order or search by a field the user's role
    may not read (their answers would tell the field's value), each with the reason.

    A filter reads its ``field_name`` path, or, when it filters by a method, the paths its
    FilterSet names in ``reads``."""
    user, params = request.user, request.query_params
    refused: dict[str, list] = {}
    filterset = getattr(view, "filterset_class", None)
    if filterset is not None:
        reads: dict[str, tuple[str, ...]] = getattr(filterset, "reads", {})
        for name, declared in filterset.base_filters.items():
            if name not in params:
                continue
            paths = reads.get(name) or (None if declared.method else (declared.field_name,))
            if paths is None:
                raise ImproperlyConfigured(
                    f"{filterset.__name__}.{name} filters by a method: name the fields it "
                    "reads in the FilterSet's `reads`."
                )
            if not all(path_readable(user, model, path) for path in paths):
                refused[name] = [REFUSED]
    ordering = [term.strip().lstrip("-") for term in params.get("ordering", "").split(",")]
    if any(
        term in getattr(view, "ordering_fields", ()) and not path_readable(user, model, term)
        for term in ordering
    ):
        refused["ordering"] = [REFUSED]
    searched = [field.lstrip(SEARCH_PREFIXES) for field in getattr(view, "search_fields", ())]
    if params.get("search") and not all(path_readable(user, model, f) for f in searched):
        refused["search"] = [REFUSED]
    return refused


class RecordViewSet(
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and update; clinical records are never deleted through the API."""

    permission_action = CHANGE  # what a custom action needs, unless it says otherwise
    read_records: Sequence[models.Model] | None = None

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # Filters, search and ordering narrow lists; one record is found by its id alone.
        if self.action != "list":
            return queryset
        refused = hidden_parameters(self.request, self, queryset.model)
        if refused:
            raise exceptions.ValidationError(refused)
        return super().filter_queryset(queryset)

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        page = super().paginate_queryset(queryset)
        self.read_records = page
        return page

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """Every read of patient data is logged: who, when, from where, which patients."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method == "GET" and self.read_records is not None and response.status_code < 300:
            model = self.get_queryset().model._meta.model_name
            audit.access_record(
                request=request,
                action=f"api.{model}.{self.action}",
                status=response.status_code,
                records=self.read_records,
            )
        return response

    def respond_with(self, instance: models.Model, status_code: int = 200) -> Response:
        response = Response(self.get_serializer(instance).data, status=status_code)
        response["ETag"] = etag_of(instance)
        return response
