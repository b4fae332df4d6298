from django.urls import path

from practice import screens, views

app_name = "practice"
# In a session's case routes, ``case_id`` is the case's number on the session
# page, not its database id: the real views take the keyword by that name.
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("start/", views.start, name="start"),
    path("measures/", views.measures, name="measures"),
    path("sessions/<int:session_id>/", views.session_detail, name="session"),
    path("sessions/<int:session_id>/check/", views.check, name="check"),
    path("sessions/<int:session_id>/reset/", views.reset, name="reset"),
    path(
        "sessions/<int:session_id>/proposals/<int:proposal_id>/answer/",
        views.answer_proposal,
        name="answer_proposal",
    ),
    # The real work screens on the session's sandbox company. The route
    # names are those of the ``reconciliation`` routes, so that
    # ``practice.screens.SessionScope.url`` maps one onto the other.
    path(
        "sessions/<int:session_id>/work/orders/<str:number>/fulfilment/",
        screens.fulfilment,
        name="work_fulfilment",
    ),
    path(
        "sessions/<int:session_id>/work/orders/<str:number>/shipments/",
        screens.record_shipment,
        name="work_record_shipment",
    ),
    path(
        "sessions/<int:session_id>/work/orders/<str:number>/drafts/discard/",
        screens.discard_draft,
        name="work_discard_draft",
    ),
    path(
        "sessions/<int:session_id>/work/orders/<str:number>/shortage/",
        screens.report_shortage,
        name="work_report_shortage",
    ),
    path(
        "sessions/<int:session_id>/work/cases/<int:case_id>/",
        screens.sales_decision,
        name="work_sales",
    ),
    path(
        "sessions/<int:session_id>/work/cases/<int:case_id>/backorder/",
        screens.decide_backorder,
        name="work_backorder",
    ),
    path(
        "sessions/<int:session_id>/work/cases/<int:case_id>/price/",
        screens.uphold_price,
        name="work_uphold_price",
    ),
    path(
        "sessions/<int:session_id>/work/cases/<int:case_id>/withdraw/",
        screens.withdraw_proposal,
        name="work_withdraw_proposal",
    ),
    path(
        "sessions/<int:session_id>/work/cases/<int:case_id>/credit-note/",
        screens.propose_credit_note,
        name="work_credit_note",
    ),
    path(
        "sessions/<int:session_id>/work/cases/<int:case_id>/reship/",
        screens.propose_reship,
        name="work_reship",
    ),
    path(
        "sessions/<int:session_id>/work/cash/",
        screens.cash_application,
        name="work_cash",
    ),
    path(
        "sessions/<int:session_id>/work/cash/apply/",
        screens.apply_cash,
        name="work_apply_cash",
    ),
    path(
        "sessions/<int:session_id>/cases/<int:case_id>/",
        screens.case_detail,
        name="case_detail",
    ),
    path(
        "sessions/<int:session_id>/cases/<int:case_id>/move/",
        screens.case_move,
        name="case_move",
    ),
    path(
        "sessions/<int:session_id>/cases/<int:case_id>/comments/",
        screens.case_comment,
        name="case_comment",
    ),
    path(
        "sessions/<int:session_id>/cases/<int:case_id>/write-off/",
        screens.case_request_write_off,
        name="case_request_write_off",
    ),
]
