package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/dbutils"

	"ticketportal/policy"
)

// Accounts' mail links and case-insensitive emails.
//
// PocketBase's own request-verification, request-password-reset and
// request-email-change endpoints mail the collections' templates; they now
// link to the portal's pages (/verifyAccount, /resetPassword,
// /confirmEmailChange) instead of the dashboard, like the portal's own mails.
// Emails are unique regardless of case (the hooks already refuse
// case-variants), and their index says so, so that every email lookup,
// PocketBase's own included, ignores case and still uses the index.
func init() {
	m.Register(func(app core.App) error {
		for _, name := range []string{policy.Users, policy.Admins} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			c.VerificationTemplate = core.EmailTemplate{
				Subject: "{APP_NAME}: verify your email address",
				Body:    linkBody("Please confirm that this email address is yours.", "{APP_URL}/verifyAccount?token={TOKEN}", "Verify my email address"),
			}
			c.ResetPasswordTemplate = core.EmailTemplate{
				Subject: "{APP_NAME}: reset your password",
				Body:    linkBody("Somebody (hopefully you) asked to reset the password of your {APP_NAME} account.", "{APP_URL}/resetPassword?token={TOKEN}", "Choose a new password"),
			}
			c.ConfirmEmailChangeTemplate = core.EmailTemplate{
				Subject: "{APP_NAME}: confirm your new email address",
				Body:    linkBody("You asked to change the email address of your {APP_NAME} account to this one.", "{APP_URL}/confirmEmailChange?token={TOKEN}", "Confirm my new email address"),
			}
			if idx, ok := dbutils.FindSingleColumnUniqueIndex(c.Indexes, core.FieldNameEmail); ok {
				c.AddIndex(idx.IndexName, true, "`email` COLLATE NOCASE", "`email` != ''")
			}
			if err := app.Save(c); err != nil {
				return err
			}
		}
		return nil
	}, nil)
}

func linkBody(intro, link, label string) string {
	return `<p>Hello,</p>
<p>` + intro + `</p>
<p><a class="btn" href="` + link + `" target="_blank" rel="noopener">` + label + `</a></p>
<p>Or open this link: ` + link + `</p>
<p><i>If you did not ask for this, ignore this mail.</i></p>
<p>{APP_NAME}</p>`
}
