import { Type, type Static } from 'typebox';
import { Email, JsonObject, NullableText, Text } from '../accounts/schemas.js';

const ProfileFields = {
  name: Type.Optional(Text(255)),
  display_name: Type.Optional(NullableText(255)),
  email: Type.Optional(Email),
  message_signature: Type.Optional(NullableText(20_000)),
  ui_settings: Type.Optional(JsonObject('replaces the stored ui_settings')),
  password: Type.Optional(Type.String({ maxLength: 1024 })),
  password_confirmation: Type.Optional(Type.String({ maxLength: 1024 })),
  current_password: Type.Optional(Type.String({ maxLength: 1024 })),
};

/** `{profile: {...}}` as the reference sends it; the same keys unwrapped are accepted too. */
export const ProfileUpdateBody = Type.Object({ ...ProfileFields, profile: Type.Optional(Type.Object(ProfileFields)) });

export type ProfileInput = Omit<Static<typeof ProfileUpdateBody>, 'profile'>;
