"""The SAML provider configuration table, as edx-platform declares it
(common/djangoapps/third_party_auth/models.py: ConfigurationModel → ProviderConfig →
SAMLProviderConfig): every non-null column, in Open edX's order, and `organization`. The nullable
`changed_by`, `max_session_length`, `was_valid_at` and `saml_configuration` (a foreign key to
SAMLConfiguration) are left out: the inspector reads none of them, and a row without them is
still a row Open edX reads."""
from django.contrib.sites.models import Site
from django.db import models
from organizations.models import Organization


class SAMLProviderConfig(models.Model):
    """
    .. no_pii:
    """

    # ConfigurationModel (config_models).
    change_date = models.DateTimeField(auto_now_add=True)
    enabled = models.BooleanField(default=False)
    # ProviderConfig.
    icon_class = models.CharField(max_length=50, blank=True, default="fa-sign-in")
    icon_image = models.FileField(blank=True)
    name = models.CharField(max_length=50, blank=True)
    slug = models.SlugField(max_length=30, db_index=True, default="default")
    secondary = models.BooleanField(default=False)
    organization = models.ForeignKey(Organization, blank=True, null=True, on_delete=models.CASCADE)
    site = models.ForeignKey(Site, default=1, related_name="%(class)ss", on_delete=models.CASCADE)
    skip_hinted_login_dialog = models.BooleanField(default=True)
    skip_registration_form = models.BooleanField(default=True)
    skip_email_verification = models.BooleanField(default=True)
    send_welcome_email = models.BooleanField(default=False)
    visible = models.BooleanField(default=False)
    send_to_registration_first = models.BooleanField(default=True)
    sync_learner_profile_data = models.BooleanField(default=False)
    enable_sso_id_verification = models.BooleanField(default=False)
    disable_for_enterprise_sso = models.BooleanField(default=False)
    # SAMLProviderConfig.
    display_name = models.CharField(max_length=35, blank=True)
    backend_name = models.CharField(max_length=50, default="tpa-saml", blank=True)
    entity_id = models.CharField(max_length=255, blank=True)
    metadata_source = models.CharField(max_length=255, blank=True)
    attr_user_permanent_id = models.CharField(max_length=128, blank=True)
    attr_full_name = models.CharField(max_length=128, blank=True)
    default_full_name = models.CharField(max_length=255, blank=True)
    attr_first_name = models.CharField(max_length=128, blank=True)
    default_first_name = models.CharField(max_length=255, blank=True)
    attr_last_name = models.CharField(max_length=128, blank=True)
    default_last_name = models.CharField(max_length=255, blank=True)
    attr_username = models.CharField(max_length=128, blank=True)
    default_username = models.CharField(max_length=255, blank=True)
    attr_email = models.CharField(max_length=128, blank=True)
    default_email = models.CharField(max_length=255, blank=True)
    automatic_refresh_enabled = models.BooleanField(default=True)
    identity_provider_type = models.CharField(max_length=128, blank=True, default="standard_saml_provider")
    debug_mode = models.BooleanField(default=False)
    country = models.CharField(max_length=128, blank=True)
    other_settings = models.TextField(blank=True)
    archived = models.BooleanField(default=False)

    class Meta:
        app_label = "third_party_auth"
