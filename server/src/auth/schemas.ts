import { Type } from 'typebox';
import { Open, Text } from '../accounts/schemas.js';
import { UserSchema } from '../users/presenter.js';

export const SignInBody = Type.Object({
  email: Text(255),
  password: Type.String({ maxLength: 1024 }),
});

export const SignedInResponse = Open({ data: UserSchema }, 'devise_token_auth style: the user JSON under `data`');

export const InvitationParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });

export const InvitationJson = Open(
  {
    email: Type.String(),
    name: Type.String(),
    account_id: Type.Integer(),
    account_name: Type.String(),
    role: Type.String(),
    expires_at: Type.String({ description: 'ISO 8601' }),
  },
  'A pending invitation',
);

export const AcceptInvitationBody = Type.Object({
  password: Type.String({ maxLength: 1024 }),
  password_confirmation: Type.Optional(Type.String({ maxLength: 1024 })),
  name: Type.Optional(Text(255, { minLength: 1 })),
});

export const SignOutResponse = Open({ success: Type.Boolean(), error: Type.Optional(Type.String()) });

export const SetupStatusJson = Open(
  { required: Type.Boolean({ description: 'true while no user exists: the dashboard offers first-run setup' }) },
  'Whether first-run setup is still possible',
);

export const SetupBody = Type.Object({
  account: Text(255, { minLength: 1, description: 'the account name' }),
  name: Text(255, { minLength: 1, description: "the administrator's name" }),
  email: Text(255),
  password: Type.String({ maxLength: 1024, description: 'at least 8 characters' }),
});
